import path from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../../src/config/env.js";
import type { AgentRegistry } from "../../../src/executor/agents/registry.js";
import type { AgentRunInput, AgentRunResult } from "../../../src/executor/agents/types.js";
import { CircuitBreakers } from "../../../src/executor/circuit-breaker.js";
import type { ExecutorDeps } from "../../../src/executor/run-task.js";
import { TaskRunner } from "../../../src/executor/task-jobs.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import type { JobContext } from "../../../src/jobs/types.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { createTask, getTask } from "../../../src/store/tasks.js";
import { createLogger } from "../../../src/util/logger.js";
import { makeRemote } from "../../e2e/harness.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const log = createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

/**
 * A TaskRunner over a real store, real SQLite jobs (not started: added jobs stay rows) and a real
 * git remote; its one agent `fixer` runs `agentRun` (it fails as a task fails, by default: the tests
 * still fail, not an infrastructure failure). Breakers open at one failure, cool-down 60 s.
 */
async function setup() {
  const dir = makeTempDir("backlog-bot-breaker-trial-");
  dirs.push(dir);
  const remote = makeRemote(dir, { "a.txt": "one\n" });
  const dataDir = path.join(dir, "data");
  const db = await openDb(dataDir);
  const settings = loadSettings({
    BACKLOG_BOT_DATA_DIR: dataDir,
    BACKLOG_BOT_LEASE_S: "5",
    BACKLOG_BOT_MAX_ATTEMPTS: "3",
    BACKLOG_BOT_BREAKER_FAILURES: "1",
    BACKLOG_BOT_BREAKER_COOLDOWN_S: "60",
  });
  const calls: number[] = [];
  const state: { onRun: (taskId: number) => Promise<void>; error: string; summary: string } = {
    onRun: async () => {},
    error: "the tests still fail",
    summary: "",
  };
  const agentRun = async (input: AgentRunInput): Promise<AgentRunResult> => {
    const taskId = Number(/task-(\d+)-run/.exec(input.transcriptPath)?.[1]);
    calls.push(taskId);
    await state.onRun(taskId);
    return {
      outcome: "failed",
      exitCode: 1,
      summary: state.summary,
      error: state.error,
      turns: 1,
      inputTokens: null,
      outputTokens: null,
      costUsd: null,
      transcriptPath: input.transcriptPath,
    };
  };
  const agents: AgentRegistry = { enabled: ["fixer"], get: (name) => (name === "fixer" ? { name, run: agentRun } : undefined) };
  const breakers = new CircuitBreakers(db, settings.breaker, log);
  const deps = {
    db,
    settings,
    log,
    agents,
    breakers,
    jobs: createSqliteJobs({ db, log }),
    // No Octokit: the prompt is built from the task's title (no issue fetch).
    github: { octokit: async () => undefined, token: async () => "unused", botIdentity: async () => ({ name: "b", email: "b@x" }) },
  } as unknown as ExecutorDeps;
  const repo = await upsertRepository(db, { fullName: "o/r", cloneUrl: `file://${remote}`, defaultBranch: "main" });
  const runner = new TaskRunner(deps);
  const runJob = (taskId: number) =>
    (runner as unknown as { runJob(id: number, ctx: JobContext): Promise<void> }).runJob(taskId, {
      log,
      signal: new AbortController().signal,
    } as unknown as JobContext);
  const newTask = async (issue: number) =>
    (await createTask(db, { repositoryId: repo.id, issueNumber: issue, title: `Fix ${issue}`, requestedBy: "m", trigger: "comment" })).task;
  return { db, breakers, repo, runner, runJob, newTask, calls, state };
}

/** Opens `key` (one failure) and moves its cool-down into the past: the next check grants the trial. */
async function openPastCooldown(db: Db, breakers: CircuitBreakers, key: string): Promise<void> {
  await breakers.failure(key, "it was down");
  await db
    .updateTable("circuit_breakers")
    .set({ opened_at: new Date(Date.now() - 120_000).toISOString() })
    .where("key", "=", key)
    .execute();
}

describe("a half-open circuit breaker's trial task", () => {
  it("closes the repository's breaker when it fails as a task (the repository answered), and the next task runs", async () => {
    const { db, breakers, repo, runJob, newTask, calls } = await setup();
    try {
      await openPastCooldown(db, breakers, `repo:${repo.id}`);
      const trial = await newTask(1);
      await runJob(trial.id);
      expect(await getTask(db, trial.id)).toMatchObject({ state: "failed" });
      expect((await getTask(db, trial.id))?.error).toContain("the tests still fail");
      expect(await breakers.notClosed()).toEqual([]);

      const next = await newTask(2);
      await runJob(next.id);
      expect(calls).toEqual([trial.id, next.id]);
      expect(await getTask(db, next.id)).toMatchObject({ state: "failed", attempts: 1 });
    } finally {
      await db.destroy();
    }
  });

  it("gives the repository's and the agent's trials back when it is cancelled, and the next task runs as the trial", async () => {
    const { db, breakers, repo, runner, runJob, newTask, calls, state } = await setup();
    try {
      await openPastCooldown(db, breakers, `repo:${repo.id}`);
      await openPastCooldown(db, breakers, "agent:fixer");
      const trial = await newTask(1);
      // A maintainer cancels while the agent runs.
      state.onRun = async (taskId) => {
        await db.updateTable("tasks").set({ cancel_requested_by: "m" }).where("id", "=", taskId).execute();
        runner.abortLocal(taskId);
      };
      await runJob(trial.id);
      expect(await getTask(db, trial.id)).toMatchObject({ state: "cancelled" });
      // Nothing counted: both still open (a failure each), their trials free again.
      expect(await breakers.notClosed()).toEqual([
        { key: `repo:${repo.id}`, state: "open", failures: 1, lastError: "it was down" },
        { key: "agent:fixer", state: "open", failures: 1, lastError: "it was down" },
      ]);

      state.onRun = async () => {};
      const next = await newTask(2);
      await runJob(next.id);
      // The next task got the repository's trial and the agent's (its agent was not skipped), and ended both.
      expect(calls).toEqual([trial.id, next.id]);
      expect(await getTask(db, next.id)).toMatchObject({ state: "failed" });
      expect(await breakers.notClosed()).toEqual([]);
    } finally {
      await db.destroy();
    }
  });
});

describe("a task deferred by its repository's open circuit breaker", () => {
  it("keeps its attempts however often it is deferred, waits for the cool-down, and then runs", async () => {
    const { db, breakers, repo, runJob, newTask, calls } = await setup();
    try {
      await breakers.failure(`repo:${repo.id}`, "clone failed");
      const task = await newTask(1);
      // The job and the sweep (every lease period) offer it again and again while the breaker is open.
      for (let i = 0; i < 6; i++) await runJob(task.id);
      expect(await getTask(db, task.id)).toMatchObject({ state: "queued", attempts: 0, error: null });
      expect(calls).toEqual([]);
      // Its next run is due when the cool-down ends, not a second from now.
      const deferred = await db
        .selectFrom("jobs")
        .select(["key", "run_at"])
        .where("key", "like", `task:${task.id}:after-breaker%`)
        .execute();
      expect(deferred).toHaveLength(1);
      expect(Date.parse(deferred[0]?.run_at ?? "") - Date.now()).toBeGreaterThan(50_000);

      // The cool-down is over: the task is the trial, and runs.
      await db
        .updateTable("circuit_breakers")
        .set({ opened_at: new Date(Date.now() - 120_000).toISOString() })
        .execute();
      await runJob(task.id);
      expect(calls).toEqual([task.id]);
      expect(await getTask(db, task.id)).toMatchObject({ state: "failed", attempts: 1 });
      expect((await getTask(db, task.id))?.error).not.toContain("worker stopped too often");
    } finally {
      await db.destroy();
    }
  });

  it("keeps its attempts while another task holds the half-open trial", async () => {
    const { db, breakers, repo, runJob, newTask, calls } = await setup();
    try {
      await openPastCooldown(db, breakers, `repo:${repo.id}`);
      // Another process's task holds the trial.
      expect(await breakers.check(`repo:${repo.id}`)).toEqual({ allowed: true, trial: true });
      const task = await newTask(1);
      for (let i = 0; i < 6; i++) await runJob(task.id);
      expect(await getTask(db, task.id)).toMatchObject({ state: "queued", attempts: 0 });
      expect(calls).toEqual([]);
      // The trial closes the breaker: the task runs at its next offer.
      await breakers.success(`repo:${repo.id}`);
      await runJob(task.id);
      expect(calls).toEqual([task.id]);
      expect(await getTask(db, task.id)).toMatchObject({ state: "failed", attempts: 1 });
    } finally {
      await db.destroy();
    }
  });
});

describe("a task's second job in the process that runs it", () => {
  it("leaves the task to the run under way (the task's lease is this process's, so a claim would start a second run beside it)", async () => {
    const { db, runJob, newTask, calls, state } = await setup();
    try {
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      state.onRun = () => held;
      const task = await newTask(1);
      const first = runJob(task.id);
      while (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      await runJob(task.id); // e.g. the sweep's re-add after the event loop stalled past the lease
      expect(calls).toEqual([task.id]);
      release();
      await first;
      expect(calls).toEqual([task.id]);
      expect(await getTask(db, task.id)).toMatchObject({ state: "failed", attempts: 1 });
    } finally {
      await db.destroy();
    }
  });
});

describe("a failed task's reply on its issue", () => {
  it("quotes the agent inertly: its words ping no one and close no issue", async () => {
    const { db, runJob, newTask, state } = await setup();
    try {
      state.error = "gave up: closes #40, cc @org/security-team <img src=x>";
      state.summary = "Resolves #41. @everyone";
      const task = await newTask(1);
      await runJob(task.id);
      const reply = JSON.parse((await getTask(db, task.id))?.reply_pending ?? "{}") as { body?: string };
      expect(reply.body).toContain("failed");
      expect(reply.body).not.toMatch(/#4[01]|@org|@everyone|<img/);
    } finally {
      await db.destroy();
    }
  });
});
