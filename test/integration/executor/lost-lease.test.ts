import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../../src/config/env.js";
import { CircuitBreakers } from "../../../src/executor/circuit-breaker.js";
import { commit, LeaseLost, prepareWorkspace, push, type TaskRun } from "../../../src/executor/run-task.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import { openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask, getTask, transition } from "../../../src/store/tasks.js";
import { createLogger } from "../../../src/util/logger.js";
import { makeRemote } from "../../e2e/harness.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const log = createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

describe("a worker whose lease was taken over", () => {
  it("can neither push nor transition the task", async () => {
    const dir = makeTempDir("backlog-bot-lease-");
    dirs.push(dir);
    const remote = makeRemote(dir, { "a.txt": "one\n" });
    const dataDir = path.join(dir, "data");
    const db = await openDb(dataDir);
    const settings = loadSettings({ BACKLOG_BOT_DATA_DIR: dataDir, BACKLOG_BOT_LEASE_S: "5" });
    const repo = await upsertRepository(db, { fullName: "o/r", cloneUrl: `file://${remote}`, defaultBranch: "main" });
    const { task } = await createTask(db, { repositoryId: repo.id, issueNumber: 1, title: "Fix a", requestedBy: "m", trigger: "comment" });
    const claimed = await claimTask(db, task.id, "host:1:old", -1);
    const deps = {
      db,
      settings,
      log,
      jobs: createSqliteJobs({ db, log }),
      breakers: new CircuitBreakers(db, settings.breaker, log),
      agents: { enabled: [], get: () => undefined },
      github: {
        octokit: async () => ({}) as never,
        token: async () => "unused",
        botIdentity: async () => ({ name: "bot[bot]", email: "1+bot[bot]@users.noreply.github.com" }),
      },
    };
    const run: TaskRun = {
      deps,
      task: claimed as NonNullable<typeof claimed>,
      repo,
      owner: "host:1:old",
      signal: new AbortController().signal,
      log,
      github: { owner: "o", name: "r", octokit: {} as never },
      branch: "backlog-bot/issue-1-fix-a",
      notes: [],
      agent: "command",
    };
    await prepareWorkspace(run);
    writeFileSync(path.join(run.worktree as string, "a.txt"), "two\n");
    await commit(run);

    // The lease ran out and another worker took the task over.
    expect(await claimTask(db, task.id, "host:2:new", 60_000)).toMatchObject({ lease_owner: "host:2:new" });
    await expect(push(run)).rejects.toBeInstanceOf(LeaseLost);
    const branches = execFileSync("git", ["--git-dir", remote, "branch", "--list"], { encoding: "utf8" });
    expect(branches).not.toContain("backlog-bot/");
    expect(await transition(db, task.id, "pr_open", { actor: "worker", owner: "host:1:old" })).toBeUndefined();
    expect(await getTask(db, task.id)).toMatchObject({ state: "running", lease_owner: "host:2:new", pushed_sha: null });

    // The new owner pushes, with a lease that requires the branch not to exist yet.
    await push({ ...run, owner: "host:2:new" });
    expect(execFileSync("git", ["--git-dir", remote, "branch", "--list"], { encoding: "utf8" })).toContain("backlog-bot/issue-1-fix-a");
    expect((await getTask(db, task.id))?.pushed_sha).toBe(run.commitSha);

    // A maintainer adds a commit to the bot's branch; the bot's next push (a retry from scratch)
    // is refused by --force-with-lease and the maintainer's commit survives.
    const clone = path.join(dir, "maintainer");
    const env = { ...process.env, GIT_AUTHOR_NAME: "M", GIT_AUTHOR_EMAIL: "m@x", GIT_COMMITTER_NAME: "M", GIT_COMMITTER_EMAIL: "m@x" };
    execFileSync("git", ["clone", "--quiet", "--branch", run.branch, remote, clone], { env });
    writeFileSync(path.join(clone, "b.txt"), "maintainer\n");
    execFileSync("git", ["-C", clone, "add", "b.txt"], { env });
    execFileSync("git", ["-C", clone, "commit", "--quiet", "-m", "maintainer's fix-up"], { env });
    execFileSync("git", ["-C", clone, "push", "--quiet", "origin", run.branch], { env });
    const theirs = execFileSync("git", ["-C", clone, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    const retry = { ...run, owner: "host:2:new", task: (await getTask(db, task.id)) as NonNullable<Awaited<ReturnType<typeof getTask>>> };
    await prepareWorkspace(retry);
    writeFileSync(path.join(retry.worktree as string, "a.txt"), "three\n");
    await commit(retry);
    await expect(push(retry)).rejects.toThrow(/changed on GitHub since backlog-bot last pushed/);
    expect(execFileSync("git", ["--git-dir", remote, "rev-parse", run.branch], { encoding: "utf8" }).trim()).toBe(theirs);
    await db.destroy();
  });
});
