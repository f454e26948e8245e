import path from "node:path";
import { Octokit } from "@octokit/rest";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../../src/config/env.js";
import { DEFAULT_CONFIG } from "../../../src/config/schema.js";
import { CircuitBreakers } from "../../../src/executor/circuit-breaker.js";
import { addReplyJob, registerReplyJobs } from "../../../src/executor/replies.js";
import { cancelTask, type RequestDeps, retryTask } from "../../../src/executor/requests.js";
import type { ExecutorDeps } from "../../../src/executor/run-task.js";
import { TaskRunner } from "../../../src/executor/task-jobs.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import type { JobContext } from "../../../src/jobs/types.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import type { Task } from "../../../src/store/schema.js";
import { createTask, getTask } from "../../../src/store/tasks.js";
import { createLogger } from "../../../src/util/logger.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";

const log = createLogger({ level: "silent" });
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

describe("owed replies", () => {
  it("posts a reply owed while the task's reply job is running (its own job was deduped away), each once", async () => {
    const dir = makeTempDir();
    const db: Db = await openDb(path.join(dir, "data"));
    const jobs = createSqliteJobs({ db, log, pollMs: 20 });
    cleanup.push(
      () => removeDir(dir),
      () => db.destroy(),
      () => jobs.stop(100),
    );
    const posted: string[] = [];
    let listing: () => void = () => {};
    const listed = new Promise<void>((resolve) => {
      listing = resolve;
    });
    // GitHub answers the first look for an earlier copy slowly: the second reply is owed meanwhile.
    let looks = 0;
    const stub: GitHubStub = await startGitHubStub({
      "GET /repos/:owner/:repo/issues/:number/comments": async () => {
        if (looks++ === 0) {
          listing();
          await new Promise((resolve) => setTimeout(resolve, 400));
        }
        return { body: [] };
      },
      "POST /repos/:owner/:repo/issues/:number/comments": (req) => {
        posted.push((req.body as { body: string }).body.split("\n")[0] ?? "");
        return { status: 201, body: { id: posted.length } };
      },
    });
    cleanup.push(() => stub.close());
    const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
    const repo = await upsertRepository(db, { fullName: "o/r", installationId: 1 });
    const { task } = await createTask(db, { repositoryId: repo.id, issueNumber: 1, title: "t", requestedBy: "m", trigger: "comment" });
    const owe = (body: string, marker: string) =>
      db
        .updateTable("tasks")
        .set({ reply_pending: JSON.stringify({ body, marker }) })
        .where("id", "=", task.id)
        .execute();
    await owe("first reply", "task-1:failed");
    await registerReplyJobs({ db, jobs, github: { octokit: async () => octokit } as never, log });
    await jobs.start();
    await listed; // the first reply's job is running
    await owe("second reply", "task-1:queued");
    await addReplyJob(jobs, task.id); // as a task's end does: deduped by the running job's key
    await jobs.drain();
    expect(posted).toEqual(["first reply", "second reply"]);
    expect((await getTask(db, task.id))?.reply_pending).toBeNull();
  });

  it("a retry keeps the last attempt's failure owed while GitHub was down: it is said once, before the retried task's own end", async () => {
    const dir = makeTempDir();
    const db: Db = await openDb(path.join(dir, "data"));
    const jobs = createSqliteJobs({ db, log, pollMs: 20 });
    cleanup.push(
      () => removeDir(dir),
      () => db.destroy(),
      () => jobs.stop(100),
    );
    const posted: { issue: number; body: string }[] = [];
    const stub: GitHubStub = await startGitHubStub({
      "GET /repos/:owner/:repo/issues/:number/comments": (req) => ({
        body: posted
          .filter((c) => c.issue === Number(req.params.number))
          .map((c, i) => ({ id: i + 1, body: c.body, user: { login: "backlog-bot[bot]", type: "Bot" } })),
      }),
      "POST /repos/:owner/:repo/issues/:number/comments": (req) => {
        posted.push({ issue: Number(req.params.number), body: (req.body as { body: string }).body });
        return { status: 201, body: { id: posted.length } };
      },
    });
    cleanup.push(() => stub.close());
    const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
    const github = { octokit: async () => octokit, token: async () => "unused", botIdentity: async () => ({ name: "b", email: "b@x" }) };
    const settings = loadSettings({ BACKLOG_BOT_DATA_DIR: path.join(dir, "data"), BACKLOG_BOT_LEASE_S: "5" });
    const deps = {
      db,
      settings,
      log,
      jobs,
      breakers: new CircuitBreakers(db, settings.breaker, log),
      agents: { enabled: [], get: () => undefined },
      github,
    } as unknown as ExecutorDeps;
    const runner = new TaskRunner(deps);
    const runJob = (runner as unknown as { runJob(id: number, ctx: JobContext): Promise<void> }).runJob.bind(runner);
    const repo = await upsertRepository(db, { fullName: "o/r", installationId: 1 });
    const { task } = await createTask(db, { repositoryId: repo.id, issueNumber: 3, title: "t", requestedBy: "m", trigger: "comment" });
    // The task's worker died too often: it ends failed, its reply owed on the issue. GitHub is down
    // meanwhile, so the reply job (not running yet) has not said it.
    await db.updateTable("tasks").set({ attempts: 100 }).where("id", "=", task.id).execute();
    await runJob(task.id, { log, signal: new AbortController().signal } as unknown as JobContext);
    const failed = await getTask(db, task.id);
    expect(failed).toMatchObject({ state: "failed" });
    expect(failed?.reply_pending).toContain(`Task #${task.id} failed: the worker running it stopped`);

    // A maintainer retries it, then cancels the retry before it starts; GitHub is still down.
    const requests = { db, agents: deps.agents, runner, jobs, log } as unknown as RequestDeps;
    expect(await retryTask(requests, repo, DEFAULT_CONFIG, failed as Task, "maria")).toMatchObject({ ok: true });
    expect((await getTask(db, task.id))?.reply_pending).toContain(`Task #${task.id} failed:`);
    const queued = await getTask(db, task.id);
    expect(await cancelTask(requests, queued as Task, "maria")).toMatchObject({ ok: true });

    // GitHub is back: the failure is said once, then the cancel.
    await registerReplyJobs({ db, jobs, github: github as never, log });
    await jobs.start();
    await jobs.drain();
    expect(posted.map((c) => [c.issue, c.body.split("\n")[0]])).toEqual([
      [3, `Task #${task.id} failed: the worker running it stopped 100 times; giving up`],
      [3, `Task #${task.id} was cancelled by @maria.`],
    ]);
    expect((await getTask(db, task.id))?.reply_pending).toBeNull();
  });
});
