import { writeFileSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { Octokit } from "@octokit/rest";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadSettings } from "../../../src/config/env.js";
import { createCommandAgent } from "../../../src/executor/agents/command.js";
import { CircuitBreakers } from "../../../src/executor/circuit-breaker.js";
import { registerReplyJobs } from "../../../src/executor/replies.js";
import { cancelTask, type RequestDeps } from "../../../src/executor/requests.js";
import type { ExecutorDeps } from "../../../src/executor/run-task.js";
import { TaskRunner } from "../../../src/executor/task-jobs.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import type { JobContext } from "../../../src/jobs/types.js";
import { openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { createTask, getTask } from "../../../src/store/tasks.js";
import { createLogger } from "../../../src/util/logger.js";
import { makeRemote } from "../../e2e/harness.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { startGitHubStub } from "../../fixtures/github-stub.js";

/**
 * A cancel that reaches a running task just as its run opens the pull request: the PR exists, so
 * the task ends `pr_open` with it, and the one reply that says so also says that the cancel came
 * too late — from this process (the worker's run is aborted) or from another (the web role).
 */
const log = createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, cb) => cb() }) });
let cleanup: Array<() => Promise<void> | void> = [];
beforeAll(() => {
  process.env.BACKLOG_BOT_SANDBOX = "off"; // the sandbox has its own tests
});
afterAll(() => {
  delete process.env.BACKLOG_BOT_SANDBOX;
});
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

describe("a cancel that arrives as the run opens its pull request", () => {
  for (const where of ["this process", "another process"] as const) {
    it(`ends the task with its PR and says once that the cancel came too late (cancel from ${where})`, async () => {
      const dir = makeTempDir("backlog-bot-cancel-pr-");
      const dataDir = path.join(dir, "data");
      const db = await openDb(dataDir);
      const remote = makeRemote(dir, { "a.txt": "one\n" });
      const script = path.join(dir, "agent.mjs");
      writeFileSync(script, `import { writeFileSync } from "node:fs"; writeFileSync("a.txt", "two\\n"); console.log("changed a");\n`);
      const comments: Array<{ issue: number; body: string }> = [];
      let cancelled: Promise<unknown> = Promise.resolve();
      let requests: RequestDeps | undefined;
      let taskId = 0;
      const stub = await startGitHubStub({
        "GET /repos/:owner/:repo/issues/:number": (req) => ({
          body: { number: Number(req.params.number), title: "Fix a", body: "a should say two", user: { login: "maria" }, labels: [] },
        }),
        "GET /repos/:owner/:repo/issues/:number/comments": () => ({ body: [] }),
        "GET /repos/:owner/:repo/issues/:number/events": () => ({ body: [] }),
        "POST /api/graphql": () => ({
          body: { data: { repository: { issue: { lastEditedAt: null, userContentEdits: { totalCount: 0, nodes: [] } } } } },
        }),
        "POST /repos/:owner/:repo/issues/:number/comments": (req) => {
          comments.push({ issue: Number(req.params.number), body: (req.body as { body: string }).body });
          return { status: 201, body: { id: comments.length } };
        },
        "GET /repos/:owner/:repo/pulls": () => ({ body: [] }),
        // The cancel arrives while GitHub opens the PR.
        "POST /repos/:owner/:repo/pulls": async () => {
          const task = await getTask(db, taskId);
          if (task && requests) cancelled = cancelTask(requests, task, "maria");
          await cancelled;
          return { status: 201, body: { number: 7, html_url: "https://github.com/o/r/pull/7" } };
        },
        "GET /repos/:owner/:repo/commits/:ref/check-runs": () => ({ body: { total_count: 0, check_runs: [] } }),
      });
      const jobs = createSqliteJobs({ db, log, pollMs: 20 });
      cleanup.push(
        () => removeDir(dir),
        () => db.destroy(),
        () => stub.close(),
        () => jobs.stop(1_000),
      );
      const settings = loadSettings({ BACKLOG_BOT_DATA_DIR: dataDir, BACKLOG_BOT_LEASE_S: "30" });
      const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
      const github = { octokit: async () => octokit, token: async () => "unused", botIdentity: async () => ({ name: "b", email: "b@x" }) };
      const agent = createCommandAgent(`${process.execPath} ${script}`);
      const agents = { enabled: ["command"], get: (name: string) => (name === "command" ? agent : undefined) };
      const runner = new TaskRunner({
        db,
        settings,
        log,
        jobs,
        breakers: new CircuitBreakers(db, settings.breaker, log),
        agents,
        github,
      } as unknown as ExecutorDeps);
      // From another process, the cancel only writes the request: this worker's run is not aborted by it.
      const otherRunner = { enqueue: async () => {}, abortLocal: () => false };
      requests = { db, log, jobs, agents, runner: where === "this process" ? runner : otherRunner } as unknown as RequestDeps;
      await registerReplyJobs({ db, jobs, github: github as never, log });
      await jobs.start();
      const repo = await upsertRepository(db, { fullName: "o/r", installationId: 1, cloneUrl: `file://${remote}`, defaultBranch: "main" });
      const { task } = await createTask(db, {
        repositoryId: repo.id,
        issueNumber: 3,
        title: "Fix a",
        requestedBy: "maria",
        trigger: "comment",
      });
      taskId = task.id;

      await (runner as unknown as { runJob(id: number, ctx: JobContext): Promise<void> }).runJob(task.id, {
        log,
        signal: new AbortController().signal,
      } as unknown as JobContext);
      await jobs.drain();

      expect(await cancelled).toMatchObject({
        ok: true,
        message: `Stopping task #${task.id}: its agent and everything it started are being stopped.`,
      });
      expect(await getTask(db, task.id)).toMatchObject({
        state: "pr_open",
        pr_number: 7,
        pr_url: "https://github.com/o/r/pull/7",
        cancel_requested_by: null,
        reply_pending: null,
      });
      expect(comments).toEqual([
        {
          issue: 3,
          body: expect.stringMatching(
            new RegExp(
              `^Task #${task.id}: draft pull request https://github\\.com/o/r/pull/7 is ready for review\\.\\n\\n` +
                "The cancel asked by @maria came after the pull request was opened; close the pull request to drop it\\.",
            ),
          ),
        },
      ]);
    });
  }
});
