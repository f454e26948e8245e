import { Octokit } from "@octokit/rest";
import { afterEach, describe, expect, it } from "vitest";
import {
  openDraftPullRequest,
  type PullRequestInput,
  pullRequestBody,
  updatePullRequestSections,
} from "../../../src/executor/pull-request.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";

const input: PullRequestInput = {
  ...{ owner: "octo", repo: "calc", branch: "backlog-bot/issue-1-sub", base: "main", taskId: 3, issueNumber: 1, title: "sub subtracts" },
  ...{ requestedBy: "maintainer", instructions: null, agent: "command", summary: "Fixed sub.", notes: [], figures: null, diffStat: "x" },
  verification: { section: "### Verification\n\n✅ Verified: `npm test` — RETRY-EVIDENCE.", headline: null },
};

describe("the PR body on GitHub", () => {
  let stub: GitHubStub;
  afterEach(async () => {
    await stub.close();
  });

  it("a retry that finds its open PR rewrites the crashed attempt's evidence there, keeping a person's words", async () => {
    const old = `${pullRequestBody({
      ...input,
      notes: ["OLD-NOTE"],
      verification: { section: "### Verification\n\n❌ OLD-EVIDENCE", headline: "> [!WARNING]\n> OLD-WARNING" },
    })}\n\nA person's words.`;
    let body = old;
    stub = await startGitHubStub({
      "GET /repos/:owner/:repo/pulls": () => ({ body: [{ number: 7, html_url: "https://github.test/octo/calc/pull/7", body }] }),
      "PATCH /repos/:owner/:repo/pulls/:number": (req) => {
        body = (req.body as { body: string }).body;
        return { body: { number: 7 } };
      },
    });
    const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });

    expect(await openDraftPullRequest(octokit, input)).toEqual({ number: 7, url: "https://github.test/octo/calc/pull/7" });
    expect(body).toContain("RETRY-EVIDENCE");
    expect(body).not.toMatch(/OLD-(EVIDENCE|WARNING|NOTE)/);
    expect(body.endsWith("A person's words.")).toBe(true);
    expect(stub.requests.filter((r) => r.method === "POST")).toEqual([]);
  });

  it("updatePullRequestSections reads the body right before the update and sends nothing when nothing changes", async () => {
    let body = pullRequestBody(input);
    stub = await startGitHubStub({
      "GET /repos/:owner/:repo/pulls/:number": () => ({ body: { number: 7, body } }),
      "PATCH /repos/:owner/:repo/pulls/:number": (req) => {
        body = (req.body as { body: string }).body;
        return { body: { number: 7 } };
      },
    });
    const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
    const target = { owner: "octo", repo: "calc", number: 7 };
    expect(await updatePullRequestSections(octokit, target, { verification: input.verification?.section ?? "" })).toBe(false);
    expect(await updatePullRequestSections(octokit, target, { verification: "### Verification\n\nNEW" })).toBe(true);
    expect(body).toContain("### Verification\n\nNEW");
    expect(stub.requests.filter((r) => r.method === "PATCH")).toHaveLength(1);
  });
});
