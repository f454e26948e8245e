import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scanRemote } from "../../../src/cli/scan-remote.js";
import { listOpenFindings } from "../../../src/store/findings.js";
import { commitFiles, git, initRepo, makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { tempStore } from "../support/env.js";
import { makeIssues, routeConfig, routeIssues, withEtag } from "../support/issue-routes.js";

describe("scanRemote (backlog-bot scan --remote)", () => {
  let stub: GitHubStub;
  let store: Awaited<ReturnType<typeof tempStore>>;
  let work: string;
  let originDir: string;

  beforeEach(async () => {
    stub = await startGitHubStub();
    store = await tempStore();
    work = initRepo();
    commitFiles(work, { "src/main.rs": "fn main() {\n    // TODO: parse arguments\n}\n" });
    originDir = makeTempDir();
    const origin = path.join(originDir, "origin.git");
    git(originDir, ["clone", "-q", "--bare", work, origin]);
    const now = new Date();
    routeIssues(stub, makeIssues(150, now), { statuses: [] });
    routeConfig(stub, () => "stale:\n  daysBeforeStale: 100\n", { statuses: [] });
    stub.route("GET /repos/:owner/:repo", (req) => ({
      body: { full_name: `${req.params.owner}/${req.params.repo}`, default_branch: "main", clone_url: origin },
    }));
    stub.route("GET /repos/:owner/:repo/commits/:ref/check-runs", (req) =>
      withEtag(req, {
        total_count: 1,
        check_runs: [
          {
            id: 5,
            name: "build",
            head_sha: "a".repeat(40),
            status: "completed",
            conclusion: "failure",
            completed_at: now.toISOString(),
            app: { slug: "circleci" },
            output: { annotations_count: 0 },
          },
        ],
      }),
    );
  });
  afterEach(async () => {
    expect(stub.unused()).toEqual([]);
    await stub.close();
    await store.cleanup();
    removeDir(work);
    removeDir(originDir);
  });

  it("scans TODOs, stale issues, labelled issues and failing checks through GHE_HOST with GITHUB_TOKEN", async () => {
    const env: NodeJS.ProcessEnv = {
      GITHUB_TOKEN: "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
      GHE_HOST: stub.host,
      GHE_PROTOCOL: "http",
      LOG_LEVEL: "silent",
    };
    const { repositoryId: id, failures } = await scanRemote({ fullName: "octo/tool", env, db: store.db, dataDir: store.dir });
    expect(failures).toEqual([]);
    const kinds = (await listOpenFindings(store.db, id)).map((f) => f.kind);
    const count = (k: string) => kinds.filter((x) => x === k).length;
    expect(count("todo")).toBe(1);
    expect(count("failing_check")).toBe(1);
    // Issue n has idled n days plus the milliseconds since setup: more than 100 days from n = 100 on.
    expect(count("stale_issue")).toBe(makeIssues(150, new Date()).filter((issue) => issue.number >= 100).length);
    expect(count("issue")).toBe(Math.floor(150 / 7));
    expect(stub.requests.every((r) => r.headers.authorization === `token ${env.GITHUB_TOKEN}`)).toBe(true);
  });

  it("names each scanner that failed (here the clone), for the command to exit 1, and keeps what the others found", async () => {
    stub.route("GET /repos/:owner/:repo", (req) => ({
      body: { full_name: `${req.params.owner}/${req.params.repo}`, default_branch: "main", clone_url: path.join(originDir, "gone.git") },
    }));
    const env: NodeJS.ProcessEnv = {
      GITHUB_TOKEN: "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
      GHE_HOST: stub.host,
      GHE_PROTOCOL: "http",
      LOG_LEVEL: "silent",
    };
    const { repositoryId, failures } = await scanRemote({ fullName: "octo/tool", env, db: store.db, dataDir: store.dir });
    expect(failures).toEqual([expect.stringMatching(/^todo: /)]);
    expect((await listOpenFindings(store.db, repositoryId)).some((f) => f.kind === "stale_issue")).toBe(true);
  });
});

describe("scanRemote without a token", () => {
  it("refuses to run, before any request", async () => {
    const store = await tempStore();
    try {
      await expect(scanRemote({ fullName: "octo/tool", env: {}, db: store.db, dataDir: store.dir })).rejects.toMatchObject({
        code: "INVALID_SETTINGS",
      });
      for (const fullName of ["not a name", "../..", "a/..", "../x", "./x"])
        await expect(scanRemote({ fullName, env: { GITHUB_TOKEN: "x" }, db: store.db, dataDir: store.dir })).rejects.toMatchObject({
          code: "INVALID_SETTINGS",
        });
    } finally {
      await store.cleanup();
    }
  });
});
