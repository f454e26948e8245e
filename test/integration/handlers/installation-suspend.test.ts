import { createHmac, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { Writable } from "node:stream";
import type { Probot } from "probot";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../../src/config/env.js";
import { createAgentRegistry } from "../../../src/executor/agents/registry.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import { CircuitBreakers } from "../../../src/executor/circuit-breaker.js";
import { registerReplyJobs } from "../../../src/executor/replies.js";
import { cancelTask, type RequestDeps } from "../../../src/executor/requests.js";
import type { ExecutorDeps } from "../../../src/executor/run-task.js";
import { enqueueTaskRun, TaskRunner } from "../../../src/executor/task-jobs.js";
import { createAppAccess } from "../../../src/github/access.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import type { Jobs } from "../../../src/jobs/types.js";
import { handleDashboardJobs, requestDashboardSync } from "../../../src/scheduler/dashboard.js";
import { createScheduler, type Scheduler } from "../../../src/scheduler/scheduler.js";
import { getRepository, upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask, getTask, listTasks } from "../../../src/store/tasks.js";
import { createLogger } from "../../../src/util/logger.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { backends } from "../../support/backends.js";
import { webhookFixture } from "../support/app.js";
import { loadApp } from "./probot-harness.js";

type Example = { name: string; examples: Array<Record<string, unknown> & { action?: string }> };
const examples = createRequire(import.meta.url)("@octokit/webhooks-examples/api.github.com/index.json") as Example[];
/** GitHub's own example payload of `installation.<action>` (installation 16598467). */
const example = (action: string) =>
  structuredClone(examples.find((e) => e.name === "installation")?.examples.find((x) => x.action === action)) as Record<string, unknown>;

const log = createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const INSTALLATION = 16598467;
const REPO = "octo-org/widgets";

/** Delivers `payload` as GitHub does: the raw body signed with the webhook secret (`test` in the harness), verified by Probot. */
async function deliverSigned(probot: Probot, name: string, payload: unknown): Promise<void> {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac("sha256", "test").update(body).digest("hex")}`;
  await probot.webhooks.verifyAndReceive({ id: randomUUID(), name, payload: body, signature } as never);
}

let stub: GitHubStub | undefined;
let scheduler: Scheduler | undefined;
let jobs: Jobs | undefined;
afterEach(async () => {
  await jobs?.stop(1_000);
  await scheduler?.stop();
  await stub?.close();
  jobs = scheduler = stub = undefined;
});

describe("a suspended installation", () => {
  it("asks GitHub nothing and holds its queued task while suspended; unsuspended, it is scanned and the task runs again", async () => {
    stub = await startGitHubStub();
    let probot: Probot | undefined;
    // The real app access (tokens minted by the app through the stub), bound once the app is loaded.
    const access = {
      octokit: (id: number | null) => createAppAccess(probot as Probot).octokit(id),
      token: (id: number | null) => createAppAccess(probot as Probot).token(id),
      botIdentity: (id: number | null) => createAppAccess(probot as Probot).botIdentity(id),
    };
    const [sqlite] = backends(); // SQLite: this test's jobs run on the store's `jobs` table
    if (!sqlite) throw new Error("no SQLite backend");
    const store = await sqlite.fresh();
    const db = store.db;
    jobs = createSqliteJobs({ db, log, pollMs: 20 });
    const queuedRuns: number[] = [];
    const requests: RequestDeps = {
      db,
      log,
      jobs,
      agents: createAgentRegistry(loadAgentSettings({ BACKLOG_BOT_AGENTS: "command", BACKLOG_BOT_AGENT_COMMAND: "true" })),
      runner: { enqueue: async (id) => void queuedRuns.push(id), abortLocal: () => false },
    };
    scheduler = createScheduler({ db, access, dataDir: store.dataDir, log });
    const app = await loadApp(stub, undefined, { scheduler, requests }, store);
    probot = app.probot;
    const settings = loadSettings({ BACKLOG_BOT_DATA_DIR: store.dataDir });
    const runner = new TaskRunner({
      db,
      settings,
      log,
      jobs,
      breakers: new CircuitBreakers(db, settings.breaker, log),
      agents: { enabled: [], get: () => undefined },
      github: access,
    } as unknown as ExecutorDeps);
    handleDashboardJobs(jobs, { db, access, log });

    const repo = await upsertRepository(db, { fullName: REPO, installationId: INSTALLATION });
    await scheduler.start();
    expect(scheduler.schedules().has(REPO)).toBe(true);
    const { task } = await createTask(db, { repositoryId: repo.id, issueNumber: 42, title: "fix", requestedBy: "ada", trigger: "comment" });

    await deliverSigned(app.probot, "installation", example("suspend"));
    expect((await getRepository(db, REPO))?.suspended_at).toBe("2021-04-29T02:32:50Z");
    // No scheduled scan any more, and a scan asked for now (or by another process's cron slot) does not reach GitHub.
    expect(scheduler.schedules().has(REPO)).toBe(false);
    expect(await scheduler.scanNow(REPO)).toBeUndefined();
    // Neither does a dashboard sync, nor the run of the queued task: it waits, queued, no attempt spent, no dead job.
    await requestDashboardSync(jobs, repo);
    await runner.start();
    await enqueueTaskRun(jobs, task.id);
    await jobs.start();
    await jobs.drain();
    runner.stop();
    expect(await getTask(db, task.id)).toMatchObject({ state: "queued", attempts: 0, error: null });
    expect((await jobs.stats()).dead).toBe(0);
    expect(await db.selectFrom("jobs").select(["kind", "state"]).execute()).toEqual([]); // both jobs ran and ended
    // A delivery that arrives anyway (`/agent fix` sent just before the suspension) starts nothing.
    const comment = webhookFixture<Record<string, unknown> & { installation: { id: number } }>("issue_comment.created");
    comment.installation.id = INSTALLATION;
    await deliverSigned(app.probot, "issue_comment", comment);
    expect(await listTasks(db, { repositoryId: repo.id })).toHaveLength(1);
    expect(stub.requests.map((r) => `${r.method} ${r.path}`)).toEqual([]);

    await deliverSigned(app.probot, "installation", example("unsuspend"));
    expect((await getRepository(db, REPO))?.suspended_at).toBeNull();
    expect(scheduler.schedules().has(REPO)).toBe(true);
    // Scanned now: its token is asked for (the stub refuses it; the scan's failure is logged).
    await scheduler.onIdle();
    expect(stub.requests.map((r) => `${r.method} ${r.path}`)).toContain(`POST /app/installations/${INSTALLATION}/access_tokens`);
    // The held task's run is queued again, and a worker may claim it.
    expect(queuedRuns).toEqual([task.id]);
    expect(await claimTask(db, task.id, "host:1:worker", 60_000)).toMatchObject({ id: task.id, state: "running", attempts: 1 });
  });
});

describe("a task's end while its installation is suspended", () => {
  it("holds the owed reply without asking GitHub, and says it once on the issue when the installation is unsuspended", async () => {
    let suspended = true;
    const posted: string[] = [];
    // GitHub refuses a suspended installation's token (403, as in access-suspended.test.ts) and mints one again once unsuspended.
    stub = await startGitHubStub({
      "POST /app/installations/:id/access_tokens": () =>
        suspended
          ? { status: 403, body: { message: "This installation has been suspended" } }
          : { status: 201, body: { token: "ghs_unsuspended", expires_at: new Date(Date.now() + 3_600_000).toISOString() } },
      "GET /repos/:owner/:repo/issues/:number/comments": () => ({ body: [] }),
      "POST /repos/:owner/:repo/issues/:number/comments": (req) => {
        posted.push((req.body as { body: string }).body);
        return { status: 201, body: { id: posted.length } };
      },
    });
    let probot: Probot | undefined;
    const access = {
      octokit: (id: number | null) => createAppAccess(probot as Probot).octokit(id),
      token: (id: number | null) => createAppAccess(probot as Probot).token(id),
      botIdentity: (id: number | null) => createAppAccess(probot as Probot).botIdentity(id),
    };
    const [sqlite] = backends();
    if (!sqlite) throw new Error("no SQLite backend");
    const store = await sqlite.fresh();
    const db = store.db;
    // Quick retries: a reply job that retried against the refused token would be dead long before the unsuspend.
    jobs = createSqliteJobs({ db, log, pollMs: 20, backoffMs: () => 5 });
    const requests: RequestDeps = {
      db,
      log,
      jobs,
      agents: createAgentRegistry(loadAgentSettings({ BACKLOG_BOT_AGENTS: "command", BACKLOG_BOT_AGENT_COMMAND: "true" })),
      runner: { enqueue: async () => {}, abortLocal: () => false },
    };
    const app = await loadApp(stub, undefined, { requests }, store);
    probot = app.probot;
    await registerReplyJobs({ db, jobs, github: access, log });
    const repo = await upsertRepository(db, { fullName: REPO, installationId: INSTALLATION });
    const { task } = await createTask(db, { repositoryId: repo.id, issueNumber: 42, title: "fix", requestedBy: "ada", trigger: "comment" });

    await deliverSigned(app.probot, "installation", example("suspend"));
    // The task ends meanwhile: a maintainer cancels it from the web dashboard, which needs no GitHub token.
    expect(await cancelTask(requests, task, "ada")).toMatchObject({ ok: true });
    await jobs.start();
    await jobs.drain();
    expect(stub.requests.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect((await jobs.stats()).dead).toBe(0);
    expect((await getTask(db, task.id))?.reply_pending).not.toBeNull();

    suspended = false;
    await deliverSigned(app.probot, "installation", example("unsuspend"));
    await jobs.drain();
    expect(posted.map((b) => b.split("\n")[0])).toEqual([`Task #${task.id} was cancelled by @ada.`]);
    expect((await getTask(db, task.id))?.reply_pending).toBeNull();
    expect((await jobs.stats()).dead).toBe(0);
  });
});
