import path from "node:path";
import type { Probot } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GitHubAccess } from "../../../src/github/access.js";
import { createScheduler, type Scheduler } from "../../../src/scheduler/scheduler.js";
import { listOpenFindings } from "../../../src/store/findings.js";
import { getRepository } from "../../../src/store/repositories.js";
import { commitAll, deleteFiles, git, initRepo, makeTempDir, removeDir, writeFiles } from "../../fixtures/git-repo.js";
import { type GitHubStub, type StubRequest, startGitHubStub } from "../../fixtures/github-stub.js";
import { backends, type TestStore } from "../../support/backends.js";
import { createTestProbot, deliver, webhookFixture } from "../support/app.js";
import { fastOctokit, silentLog } from "../support/env.js";
import { withEtag } from "../support/issue-routes.js";

const ZERO = "0".repeat(40);

describe.each(backends())("push to the default branch rescans only the changed files for TODOs on $name", (backend) => {
  let stub: GitHubStub;
  let store: TestStore;
  let work: string;
  let originDir: string;
  let origin: string;
  let scheduler: Scheduler;
  let probot: Probot;
  let head = ZERO;
  const checkRuns: StubRequest[] = [];

  beforeEach(async () => {
    stub = await startGitHubStub();
    store = await backend.fresh();
    work = initRepo();
    originDir = makeTempDir();
    origin = path.join(originDir, "origin.git");
    git(originDir, ["init", "-q", "--bare", "-b", "main", origin]);
    git(work, ["remote", "add", "origin", origin]);
    head = ZERO;
    checkRuns.length = 0;
    // The config file as GitHub would serve it: read from the pushed repository at `ref`.
    stub.route("GET /repos/:owner/:repo/contents/:path", (req) => {
      try {
        return withEtag(req, git(origin, ["show", `${req.query.get("ref") ?? "main"}:${req.params.path}`]));
      } catch {
        return { status: 404, body: { message: "Not Found" } };
      }
    });
    stub.route("POST /repos/:owner/:repo/check-runs", (req) => {
      checkRuns.push(req);
      return { status: 201, body: { id: checkRuns.length } };
    });
    const access: GitHubAccess = {
      octokit: async () => fastOctokit(stub.baseUrl) as never,
      token: async () => {
        throw new Error("a local clone URL needs no token");
      },
      botIdentity: async () => ({ name: "bot", email: "bot@example.com" }),
    };
    scheduler = createScheduler({ db: store.db, access, dataDir: store.dataDir, log: silentLog });
    probot = await createTestProbot({ baseUrl: stub.baseUrl, db: store.db, scheduler });
  });
  afterEach(async () => {
    await scheduler.stop();
    await stub.close();
    removeDir(work);
    removeDir(originDir);
  });

  /** Commits, pushes to the bare origin and delivers the `push` webhook GitHub would send. */
  const push = async (change: () => void, options: { forced?: boolean } = {}) => {
    change();
    const after = commitAll(work, "change");
    git(work, ["push", "-q", "--force", "origin", "main"]);
    const lines = git(work, ["diff-tree", "-r", "--no-commit-id", "--name-status", "--no-renames", "--root", after]).trim().split("\n");
    const of = (status: string) => lines.filter((l) => l.startsWith(status)).map((l) => l.split("\t")[1] ?? "");
    const payload = webhookFixture<Record<string, unknown> & { repository: Record<string, unknown> }>("push");
    Object.assign(payload, {
      before: head,
      after,
      forced: options.forced ?? false,
      commits: [{ id: after, message: "change", added: of("A"), modified: of("M"), removed: of("D") }],
    });
    payload.repository.clone_url = origin;
    head = after;
    await deliver(probot, "push", payload);
    await scheduler.onIdle();
  };
  const todos = async () => {
    const repo = await getRepository(store.db, "octo-org/hello-world");
    const rows = repo ? await listOpenFindings(store.db, repo.id) : [];
    return rows
      .filter((f) => f.kind === "todo")
      .map((f) => `${f.path}:${f.line} ${f.title}`)
      .sort();
  };
  const fingerprints = async () => {
    const rows = await store.db.selectFrom("findings").select(["fingerprint", "path", "resolved_at"]).where("kind", "=", "todo").execute();
    return rows;
  };

  it("adds, moves and deletes TODOs across commits", async () => {
    await push(() =>
      writeFiles(work, { "src/a.ts": "// TODO: handle errors\nexport const a = 1;\n", "src/b.py": "x = 1  # FIXME: wrong unit\n" }),
    );
    expect(await todos()).toEqual([
      expect.stringMatching(/^src\/a\.ts:1 .*handle errors/),
      expect.stringMatching(/^src\/b\.py:1 .*wrong unit/),
    ]);
    const [aBefore] = (await fingerprints()).filter((f) => f.path === "src/a.ts");

    // Move a's TODO down two lines, remove b's FIXME, add one in a new file.
    await push(() =>
      writeFiles(work, {
        "src/a.ts": "import x from 'x';\n\n// TODO: handle errors\nexport const a = x;\n",
        "src/b.py": "x = 1\n",
        "src/c.go": "package c\n// HACK: until the API has paging\n",
      }),
    );
    expect(await todos()).toEqual([
      expect.stringMatching(/^src\/a\.ts:3 .*handle errors/),
      expect.stringMatching(/^src\/c\.go:2 .*until the API has paging/),
    ]);
    const [aAfter] = (await fingerprints()).filter((f) => f.path === "src/a.ts");
    expect(aAfter?.fingerprint).toBe(aBefore?.fingerprint);

    // Delete a.ts and move c.go's TODO to another file.
    await push(() => {
      deleteFiles(work, ["src/a.ts", "src/c.go"]);
      writeFiles(work, { "src/d.go": "package d\n// HACK: until the API has paging\n" });
    });
    expect(await todos()).toEqual([expect.stringMatching(/^src\/d\.go:2 .*until the API has paging/)]);
    const resolved = (await fingerprints()).filter((f) => f.resolved_at !== null).map((f) => f.path);
    expect(resolved.sort()).toEqual(["src/a.ts", "src/b.py", "src/c.go"]);
  });

  it("a push to another branch is ignored; a force push rescans the whole branch", async () => {
    await push(() => writeFiles(work, { "a.js": "// TODO: one\n" }));
    const payload = webhookFixture<Record<string, unknown>>("push");
    payload.ref = "refs/heads/feature";
    await deliver(probot, "push", payload);
    await scheduler.onIdle();
    expect(await todos()).toHaveLength(1);
    // Rewritten history: the payload's file list cannot be trusted, so everything is rescanned.
    git(work, ["reset", "-q", "--hard", "HEAD"]);
    writeFiles(work, { "b.js": "// TODO: two\n" });
    git(work, ["add", "-A"]);
    git(work, ["commit", "-q", "--amend", "-m", "rewritten"]);
    await push(() => writeFiles(work, { "c.js": "const c = 3;\n" }), { forced: true });
    expect(await todos()).toEqual([expect.stringMatching(/^a\.js:1 /), expect.stringMatching(/^b\.js:1 /)]);
  });

  it("a config change is validated at the pushed commit and reported once per distinct error as a check run", async () => {
    await push(() => writeFiles(work, { "a.js": "// TODO: one\n// XXX: two\n" }));
    await push(() => writeFiles(work, { ".github/backlog-bot.yml": "todo:\n  keywords: [XXX]\n  keyword: oops\n" }));
    expect(checkRuns).toHaveLength(1);
    expect(checkRuns[0]?.body).toMatchObject({ name: "backlog-bot config", head_sha: head, conclusion: "failure" });
    expect(JSON.stringify(checkRuns[0]?.body)).toContain("todo.keyword: unknown option");
    const repo = await getRepository(store.db, "octo-org/hello-world");
    expect(repo?.config_error).toContain("todo.keyword");

    // The same error again: no second report.
    await push(() => writeFiles(work, { ".github/backlog-bot.yml": "# still broken\ntodo:\n  keywords: [XXX]\n  keyword: oops\n" }));
    expect(checkRuns).toHaveLength(1);

    // Fixed: reported as valid, and the new keywords apply to the next scanned files.
    await push(() =>
      writeFiles(work, { ".github/backlog-bot.yml": "todo:\n  keywords: [XXX]\n", "b.js": "// TODO: three\n// XXX: four\n" }),
    );
    expect(checkRuns).toHaveLength(2);
    expect(checkRuns[1]?.body).toMatchObject({ conclusion: "success" });
    expect((await todos()).filter((t) => t.startsWith("b.js"))).toEqual([expect.stringMatching(/^b\.js:2 .*four/)]);
  });
});
