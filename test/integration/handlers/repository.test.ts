import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { mirrorPath } from "../../../src/git/workspace.js";
import { getRepository, listRepositories, upsertRepository } from "../../../src/store/repositories.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { loadApp } from "./probot-harness.js";

type RepositoryPayload = Record<string, unknown> & { repository: { id?: number }; changes?: unknown };
type Example = { name: string; examples: Array<RepositoryPayload & { action?: string }> };
const examples = createRequire(import.meta.url)("@octokit/webhooks-examples/api.github.com/index.json") as Example[];
/** GitHub's documented example payload of `repository.<action>` (its repository is `Octocoders/Hello-World`, id 186853261). */
const example = (action: string) =>
  structuredClone(examples.find((e) => e.name === "repository")?.examples.find((x) => x.action === action)) as RepositoryPayload;

let stub: GitHubStub | undefined;
afterEach(async () => {
  await stub?.close();
});

describe("repository.renamed and repository.transferred", () => {
  it("transferred: a row stored before its id was known is found by its old name, renamed, and records the id; its old mirror goes", async () => {
    stub = await startGitHubStub();
    const app = await loadApp(stub);
    const old = await upsertRepository(app.db, { fullName: "octocat/Hello-World", installationId: 1 });
    mkdirSync(mirrorPath(app.dataDir, "octocat/Hello-World"), { recursive: true });
    await app.receive("repository", example("transferred"));
    expect(await listRepositories(app.db)).toEqual([
      expect.objectContaining({ id: old.id, full_name: "Octocoders/Hello-World", github_id: 186853261 }),
    ]);
    expect(existsSync(mirrorPath(app.dataDir, "octocat/Hello-World"))).toBe(false);
  });

  it("a payload without the repository id and without changes renames nothing and does not fail", async () => {
    stub = await startGitHubStub();
    const app = await loadApp(stub);
    await upsertRepository(app.db, { fullName: "Octocoders/Old-Name", githubId: 186853261 });
    const payload = example("renamed");
    delete payload.repository.id;
    delete payload.changes;
    await app.receive("repository", payload);
    expect((await listRepositories(app.db)).map((r) => r.full_name)).toEqual(["Octocoders/Old-Name"]);
    expect(await getRepository(app.db, "Octocoders/Hello-World")).toBeUndefined();
  });
});
