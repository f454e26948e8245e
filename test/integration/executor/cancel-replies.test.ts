import path from "node:path";
import { Writable } from "node:stream";
import { Octokit } from "@octokit/rest";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../../src/config/env.js";
import { CircuitBreakers } from "../../../src/executor/circuit-breaker.js";
import { registerReplyJobs } from "../../../src/executor/replies.js";
import { cancelTask, type RequestDeps } from "../../../src/executor/requests.js";
import type { ExecutorDeps } from "../../../src/executor/run-task.js";
import { TaskRunner } from "../../../src/executor/task-jobs.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import type { JobContext } from "../../../src/jobs/types.js";
import { openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask, getTask } from "../../../src/store/tasks.js";
import { createLogger } from "../../../src/util/logger.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { startGitHubStub } from "../../fixtures/github-stub.js";

const log = createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, cb) => cb() }) });
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

describe("the reply that says a task was cancelled", () => {
  it("names the operator's API token as the API, not as @api-token (a GitHub account of someone else), and a person by @login", async () => {
    const dir = makeTempDir("backlog-bot-cancel-");
    const dataDir = path.join(dir, "data");
    const db = await openDb(dataDir);
    const comments: Array<{ issue: number; body: string }> = [];
    const stub = await startGitHubStub({
      "GET /repos/:owner/:repo/issues/:number/comments": () => ({ body: [] }),
      "POST /repos/:owner/:repo/issues/:number/comments": (req) => {
        comments.push({ issue: Number(req.params.number), body: (req.body as { body: string }).body });
        return { status: 201, body: { id: comments.length } };
      },
    });
    const jobs = createSqliteJobs({ db, log, pollMs: 20 });
    cleanup.push(
      () => removeDir(dir),
      () => db.destroy(),
      () => stub.close(),
      () => jobs.stop(1_000),
    );
    const settings = loadSettings({ BACKLOG_BOT_DATA_DIR: dataDir, BACKLOG_BOT_LEASE_S: "5" });
    const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
    const github = { octokit: async () => octokit, token: async () => "unused", botIdentity: async () => ({ name: "b", email: "b@x" }) };
    const runner = new TaskRunner({
      db,
      settings,
      log,
      jobs,
      breakers: new CircuitBreakers(db, settings.breaker, log),
      agents: { enabled: [], get: () => undefined },
      github,
    } as unknown as ExecutorDeps);
    const requests: RequestDeps = { db, log, jobs, agents: { enabled: [], get: () => undefined }, runner };
    await registerReplyJobs({ db, jobs, github: github as never, log });
    await jobs.start();
    const repo = await upsertRepository(db, { fullName: "o/r", installationId: 1 });
    const issueTask = async (n: number) =>
      (await createTask(db, { repositoryId: repo.id, issueNumber: n, title: "t", requestedBy: "m", trigger: "comment" })).task;

    // Queued, cancelled with the operator's token (`POST /api/v1/tasks/{id}/cancel`: the web layer's actor is `api-token`), and by a person.
    const byApi = await issueTask(1);
    await cancelTask(requests, byApi, "api-token");
    const byPerson = await issueTask(2);
    await cancelTask(requests, byPerson, "maria");
    // Running, cancelled with the token, and its worker died before it stopped the agent: the next claim ends it.
    const running = await issueTask(3);
    await claimTask(db, running.id, "other-host:1:gone", 60_000);
    const expired = new Date(Date.now() - 60_000).toISOString();
    await cancelTask(requests, (await getTask(db, running.id)) ?? running, "api-token");
    await db.updateTable("tasks").set({ lease_expires_at: expired }).where("id", "=", running.id).execute();
    const run = (runner as unknown as { runJob(id: number, ctx: JobContext): Promise<void> }).runJob.bind(runner);
    await run(running.id, { log, signal: new AbortController().signal } as unknown as JobContext);
    await jobs.drain();

    // Reply jobs run two at once: compared in issue order.
    expect(comments.map((c) => [c.issue, c.body.split("\n")[0]]).sort((x, y) => Number(x[0]) - Number(y[0]))).toEqual([
      [1, `Task #${byApi.id} was cancelled by the API.`],
      [2, `Task #${byPerson.id} was cancelled by @maria.`],
      [3, `Task #${running.id} was cancelled by the API.`],
    ]);
    expect(comments.map((c) => c.body).join("\n")).not.toContain("@api-token");
  });
});
