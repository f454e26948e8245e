import { Octokit } from "@octokit/rest";
import { afterEach, describe, expect, it } from "vitest";
import { checkWritePermission, isAllowedBot } from "../../../src/handlers/guards.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";

let stub: GitHubStub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

describe("bots and the permission gate", () => {
  it("names a bot in allowedBots case-insensitively, with or without [bot]", () => {
    for (const listed of ["renovate[bot]", "Renovate[bot]", "renovate", "RENOVATE"])
      expect(isAllowedBot("renovate[bot]", [listed]), listed).toBe(true);
    expect(isAllowedBot("renovate-evil[bot]", ["renovate"])).toBe(false);
    expect(isAllowedBot("dependabot[bot]", [])).toBe(false);
  });

  it("lets a listed bot through without asking GitHub (which answers 404 for an app's account), and refuses the rest", async () => {
    stub = await startGitHubStub({
      "GET /repos/:owner/:repo/collaborators/:user/permission": () => ({ status: 404, body: { message: "Not Found" } }),
    });
    const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
    const repo = { owner: "o", repo: "r" };
    expect(await checkWritePermission(octokit, repo, "renovate[bot]", "Bot", ["Renovate"])).toEqual({ allowed: true, role: "allowed bot" });
    expect(stub.requests).toHaveLength(0);
    expect(await checkWritePermission(octokit, repo, "dependabot[bot]", "Bot", ["renovate"])).toMatchObject({
      allowed: false,
      role: "bot",
    });
    expect(await checkWritePermission(octokit, repo, "stranger", "User", ["stranger"])).toMatchObject({ allowed: false, role: "none" });
  });
});
