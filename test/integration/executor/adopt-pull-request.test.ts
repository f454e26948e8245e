import path from "node:path";
import { Writable } from "node:stream";
import { Octokit } from "@octokit/rest";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../../src/config/env.js";
import type { AgentRegistry } from "../../../src/executor/agents/registry.js";
import { CircuitBreakers } from "../../../src/executor/circuit-breaker.js";
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
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe("a task whose worker died after it opened its pull request", () => {
  it("takes up the open draft PR of its pushed branch instead of running the agent again", async () => {
    const dir = makeTempDir("backlog-bot-adopt-");
    const dataDir = path.join(dir, "data");
    const db = await openDb(dataDir);
    cleanup.push(
      () => removeDir(dir),
      () => db.destroy(),
    );
    const lookups: string[] = [];
    const stub = await startGitHubStub({
      "GET /repos/:owner/:repo/pulls": (req) => {
        lookups.push(`${req.query.get("head")} ${req.query.get("state")}`);
        return { body: [{ number: 9, html_url: "https://github.com/o/r/pull/9", head: { ref: "backlog-bot/issue-1-fix-it" } }] };
      },
    });
    cleanup.push(() => stub.close());
    const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
    const agentRuns: string[] = [];
    const agents: AgentRegistry = {
      enabled: ["fixer"],
      get: (name) => ({ name, run: async () => Promise.reject(new Error(`${name} must not run: ${agentRuns.push(name)}`)) }),
    };
    const settings = loadSettings({ BACKLOG_BOT_DATA_DIR: dataDir, BACKLOG_BOT_LEASE_S: "5" });
    const deps = {
      db,
      settings,
      log,
      agents,
      breakers: new CircuitBreakers(db, settings.breaker, log),
      jobs: createSqliteJobs({ db, log }),
      github: { octokit: async () => octokit, token: async () => "unused", botIdentity: async () => ({ name: "b", email: "b@x" }) },
    } as unknown as ExecutorDeps;
    const repo = await upsertRepository(db, { fullName: "o/r", installationId: 1, cloneUrl: "https://github.com/o/r.git" });
    const { task } = await createTask(db, { repositoryId: repo.id, issueNumber: 1, title: "Fix it", requestedBy: "m", trigger: "comment" });
    // The dead attempt: claimed, pushed (pushed_sha and branch recorded), PR opened on GitHub, then killed.
    await claimTask(db, task.id, "other-host:1:gone", 5_000);
    await db
      .updateTable("tasks")
      .set({
        pushed_sha: "a".repeat(40),
        branch: "backlog-bot/issue-1-fix-it",
        lease_expires_at: new Date(Date.now() - 60_000).toISOString(),
      })
      .where("id", "=", task.id)
      .execute();

    const runner = new TaskRunner(deps);
    await (runner as unknown as { runJob(id: number, ctx: JobContext): Promise<void> }).runJob(task.id, {
      log,
      signal: new AbortController().signal,
    } as unknown as JobContext);
    expect(agentRuns).toEqual([]);
    expect(lookups).toEqual(["o:backlog-bot/issue-1-fix-it open"]);
    const after = await getTask(db, task.id);
    expect(after).toMatchObject({ state: "pr_open", pr_number: 9, pr_url: "https://github.com/o/r/pull/9", lease_owner: null });
    expect(JSON.parse(after?.reply_pending ?? "{}").body).toBe(
      `Task #${task.id}: draft pull request https://github.com/o/r/pull/9 is ready for review.`,
    );
  });
});
