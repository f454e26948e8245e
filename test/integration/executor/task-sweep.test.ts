import path from "node:path";
import { Writable } from "node:stream";
import { Octokit } from "@octokit/rest";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../../src/config/env.js";
import { CircuitBreakers } from "../../../src/executor/circuit-breaker.js";
import { registerReplyJobs } from "../../../src/executor/replies.js";
import type { ExecutorDeps } from "../../../src/executor/run-task.js";
import { TaskRunner } from "../../../src/executor/task-jobs.js";
import { markerLine } from "../../../src/github/comments.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import type { JobContext } from "../../../src/jobs/types.js";
import { openDb } from "../../../src/store/db.js";
import { listFollowUps, startFollowUp } from "../../../src/store/follow-ups.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask, getTask } from "../../../src/store/tasks.js";
import { createLogger } from "../../../src/util/logger.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { startGitHubStub } from "../../fixtures/github-stub.js";

const log = createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

describe("the task sweep", () => {
  it("gives a queued task whose run job was lost (a crash between the task's insert and the job's add) its job again, once", async () => {
    const dir = makeTempDir("backlog-bot-sweep-");
    dirs.push(dir);
    const dataDir = path.join(dir, "data");
    const db = await openDb(dataDir);
    try {
      const settings = loadSettings({ BACKLOG_BOT_DATA_DIR: dataDir, BACKLOG_BOT_LEASE_S: "5" });
      const jobs = createSqliteJobs({ db, log });
      const deps = {
        db,
        settings,
        log,
        jobs,
        breakers: new CircuitBreakers(db, settings.breaker, log),
        agents: { enabled: [], get: () => undefined },
        github: { octokit: async () => ({}) as never, token: async () => "unused", botIdentity: async () => ({ name: "b", email: "b@x" }) },
      } as unknown as ExecutorDeps;
      const repo = await upsertRepository(db, { fullName: "o/r" });
      const task = (n: number) =>
        createTask(db, { repositoryId: repo.id, issueNumber: n, title: `t${n}`, requestedBy: "m", trigger: "comment" });
      // Three tasks with no job: one lost a minute ago, one just created (its add may be under way), one claimed by a live worker.
      const lost = (await task(1)).task;
      await task(2);
      const claimed = (await task(3)).task;
      await claimTask(db, claimed.id, "host:1:live", 60_000);
      const minuteAgo = new Date(Date.now() - 60_000).toISOString();
      await db.updateTable("tasks").set({ updated_at: minuteAgo }).where("id", "in", [lost.id, claimed.id]).execute();

      const runner = new TaskRunner(deps);
      await runner.sweep();
      await runner.sweep(); // the pending job dedupes the second add
      const runJobs = await db.selectFrom("jobs").select(["kind", "key", "state"]).where("kind", "=", "task.run").execute();
      expect(runJobs).toEqual([{ kind: "task.run", key: `task:${lost.id}`, state: "waiting" }]);
    } finally {
      await db.destroy();
    }
  });

  it("returns a task whose follow-up round lost its worker to pr_open, the round recorded as interrupted, instead of running the task again", async () => {
    const dir = makeTempDir("backlog-bot-sweep-");
    dirs.push(dir);
    const dataDir = path.join(dir, "data");
    const db = await openDb(dataDir);
    try {
      const settings = loadSettings({ BACKLOG_BOT_DATA_DIR: dataDir, BACKLOG_BOT_LEASE_S: "5" });
      const jobs = createSqliteJobs({ db, log });
      const agentRuns: string[] = [];
      const deps = {
        db,
        settings,
        log,
        jobs,
        breakers: new CircuitBreakers(db, settings.breaker, log),
        agents: { enabled: ["command"], get: (name: string) => ({ name, run: async () => void agentRuns.push(name) }) },
        github: { octokit: async () => ({}) as never, token: async () => "unused", botIdentity: async () => ({ name: "b", email: "b@x" }) },
      } as unknown as ExecutorDeps;
      const repo = await upsertRepository(db, { fullName: "o/r" });
      const { task } = await createTask(db, { repositoryId: repo.id, issueNumber: 1, title: "t", requestedBy: "m", trigger: "comment" });
      await db
        .updateTable("tasks")
        .set({ state: "pr_open", pr_number: 7, branch: "backlog-bot/issue-1" })
        .where("id", "=", task.id)
        .execute();
      // A follow-up round claimed the task, was asked to cancel, and its worker died (lease long expired).
      await claimTask(db, task.id, "other-host:1:gone", 60_000, { followUp: true });
      await startFollowUp(db, { taskId: task.id, trigger: "review", headSha: "abc" });
      const expired = new Date(Date.now() - 60_000).toISOString();
      await db.updateTable("tasks").set({ lease_expires_at: expired, cancel_requested_by: "m" }).where("id", "=", task.id).execute();

      const runner = new TaskRunner(deps);
      await runner.sweep();
      const [job] = await db.selectFrom("jobs").select(["kind", "key"]).where("kind", "=", "task.run").execute();
      expect(job).toEqual({ kind: "task.run", key: `task:${task.id}` });
      const run = (runner as unknown as { runJob(id: number, ctx: JobContext): Promise<void> }).runJob.bind(runner);
      await run(task.id, { log, signal: new AbortController().signal } as unknown as JobContext);
      expect(agentRuns).toEqual([]);
      expect(await getTask(db, task.id)).toMatchObject({ state: "pr_open", pr_number: 7, cancel_requested_by: null, lease_owner: null });
      expect((await listFollowUps(db, task.id)).map((r) => [r.trigger, r.outcome])).toEqual([["review", "interrupted"]]);
    } finally {
      await db.destroy();
    }
  });

  it("says on the pull request, once, that a follow-up round cancelled after its worker died is over", async () => {
    const dir = makeTempDir("backlog-bot-sweep-");
    dirs.push(dir);
    const dataDir = path.join(dir, "data");
    const db = await openDb(dataDir);
    const comments: Array<{ issue: number; body: string }> = [];
    const stub = await startGitHubStub({
      "GET /repos/:owner/:repo/issues/:number/comments": (req) => ({
        body: comments
          .filter((c) => c.issue === Number(req.params.number))
          .map((c, i) => ({ id: i + 1, body: c.body, user: { login: "backlog-bot[bot]", type: "Bot" } })),
      }),
      "POST /repos/:owner/:repo/issues/:number/comments": (req) => {
        comments.push({ issue: Number(req.params.number), body: (req.body as { body: string }).body });
        return { status: 201, body: { id: comments.length } };
      },
    });
    const jobs = createSqliteJobs({ db, log, pollMs: 20 });
    try {
      const settings = loadSettings({ BACKLOG_BOT_DATA_DIR: dataDir, BACKLOG_BOT_LEASE_S: "5" });
      const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
      const github = { octokit: async () => octokit, token: async () => "unused", botIdentity: async () => ({ name: "b", email: "b@x" }) };
      const deps = {
        db,
        settings,
        log,
        jobs,
        breakers: new CircuitBreakers(db, settings.breaker, log),
        agents: { enabled: [], get: () => undefined },
        github,
      } as unknown as ExecutorDeps;
      await registerReplyJobs({ db, jobs, github: github as never, log });
      await jobs.start();
      const repo = await upsertRepository(db, { fullName: "o/r", installationId: 1 });
      const runner = new TaskRunner(deps);
      const run = (runner as unknown as { runJob(id: number, ctx: JobContext): Promise<void> }).runJob.bind(runner);
      /** A round of a task's PR that was asked to cancel (`/agent cancel` on the PR), and whose worker died (lease long expired). */
      const cancelledRoundOfDeadWorker = async (issueNumber: number, prNumber: number) => {
        const { task } = await createTask(db, { repositoryId: repo.id, issueNumber, title: "t", requestedBy: "m", trigger: "comment" });
        await db
          .updateTable("tasks")
          .set({ state: "pr_open", pr_number: prNumber, branch: `b-${issueNumber}` })
          .where("id", "=", task.id)
          .execute();
        await claimTask(db, task.id, "other-host:1:gone", 60_000, { followUp: true });
        const round = await startFollowUp(db, { taskId: task.id, trigger: "review", headSha: "abc" });
        const expired = new Date(Date.now() - 60_000).toISOString();
        await db.updateTable("tasks").set({ lease_expires_at: expired, cancel_requested_by: "maria" }).where("id", "=", task.id).execute();
        return { task, round };
      };

      const a = await cancelledRoundOfDeadWorker(1, 7);
      await run(a.task.id, { log, signal: new AbortController().signal } as unknown as JobContext);
      await jobs.drain();
      expect(await getTask(db, a.task.id)).toMatchObject({ state: "pr_open", cancel_requested_by: null, reply_pending: null });
      expect(comments.map((c) => [c.issue, c.body.split("\n")[0]])).toEqual([
        [7, `The follow-up of task #${a.task.id} was cancelled by @maria; its worker had stopped, and nothing more of the round runs.`],
      ]);

      // The round's own worker said the cancel on the PR, then died before recording the round's end: not said twice.
      const b = await cancelledRoundOfDeadWorker(2, 8);
      comments.push({
        issue: 8,
        body: `The follow-up of task #${b.task.id} was cancelled by @maria.\n\n${markerLine(`follow-up-${b.round}:cancelled`)}`,
      });
      await run(b.task.id, { log, signal: new AbortController().signal } as unknown as JobContext);
      await jobs.drain();
      expect(comments.filter((c) => c.issue === 8)).toHaveLength(1);
      expect(await getTask(db, b.task.id)).toMatchObject({ state: "pr_open", reply_pending: null });
    } finally {
      await jobs.stop(1_000);
      await stub.close();
      await db.destroy();
    }
  });
});
