import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { syncMirror } from "../../../src/git/workspace.js";
import { getRepository, upsertRepository } from "../../../src/store/repositories.js";
import { cloneBare, commitFiles, initRepo, removeDir } from "../../fixtures/git-repo.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { loadApp } from "./probot-harness.js";

type Example = { name: string; examples: Array<Record<string, unknown> & { action?: string }> };
const examples = createRequire(import.meta.url)("@octokit/webhooks-examples/api.github.com/index.json") as Example[];
const example = (name: string, action: string) =>
  structuredClone(examples.find((e) => e.name === name)?.examples.find((x) => x.action === action)) as Record<string, unknown>;

let stub: GitHubStub | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await stub?.close();
  for (const dir of dirs.splice(0)) removeDir(dir);
});

describe("repositories removed from the app", () => {
  it("leave neither their rows nor their mirrors: no copy of the code stays, and a new repository of the same name starts clean", async () => {
    stub = await startGitHubStub();
    const app = await loadApp(stub);
    const payload = example("installation_repositories", "removed");
    const removed = payload.repositories_removed as Array<{ full_name: string }>;
    const fullName = removed[0]?.full_name as string;
    const work = initRepo();
    dirs.push(work);
    commitFiles(work, { "secret.txt": "the old repository's code\n" });
    const remote = cloneBare(work);
    await upsertRepository(app.db, { fullName, installationId: 2 });
    const mirror = await syncMirror({ dataDir: app.dataDir, fullName, cloneUrl: remote, defaultBranch: "main" });
    expect(existsSync(mirror)).toBe(true);
    await app.receive("installation_repositories", payload);
    expect(await getRepository(app.db, fullName)).toBeUndefined();
    expect(existsSync(mirror)).toBe(false);
  });
});
