import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { Probot, ProbotOctokit } from "probot";
import { onTestFinished } from "vitest";
import { createApp } from "../../../src/app.js";
import { loadSettings } from "../../../src/config/env.js";
import { type AgentRegistry, createAgentRegistry } from "../../../src/executor/agents/registry.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import type { RequestDeps } from "../../../src/executor/requests.js";
import type { HandlerDeps } from "../../../src/handlers/types.js";
import { createJobs } from "../../../src/jobs/index.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { createLogger } from "../../../src/util/logger.js";
import type { GitHubStub } from "../../fixtures/github-stub.js";
import type { TestStore } from "../../support/backends.js";

/** The app loaded into an in-process Probot pointed at a stub, with a real store (SQLite, or the given test store). */
export interface AppUnderTest {
  db: Db;
  /** The app's data dir (mirrors, worktrees; the SQLite file when no store was given). */
  dataDir: string;
  probot: Probot;
  /** Task runs queued through the request service. */
  enqueued: () => number;
  /** Tasks whose local run was asked to stop (`/agent cancel` of a running task). */
  aborted: number[];
  receive(name: string, payload: unknown, id?: string): Promise<void>;
}

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();

/**
 * Loads the app with the command agent (and codex, to test the choice) enabled.
 *
 * Without `store` it opens a SQLite store in a new temp dir (jobs on the SQLite `jobs` table).
 * With `store` (from `backend.fresh()` in test/support/backends.ts) it uses that store and the jobs
 * backend of its dialect (graphile-worker on PostgreSQL, issue 13); those jobs are stopped when the
 * test ends, before the store is removed.
 */
export async function loadApp(
  stub: GitHubStub,
  agents?: AgentRegistry,
  extra: Partial<HandlerDeps> = {},
  store?: TestStore,
): Promise<AppUnderTest> {
  const dataDir = store?.dataDir ?? mkdtempSync(path.join(os.tmpdir(), "backlog-bot-handlers-"));
  const db = store?.db ?? (await openDb(dataDir));
  const settings = loadSettings({ BACKLOG_BOT_DATA_DIR: dataDir });
  const registry =
    agents ?? createAgentRegistry(loadAgentSettings({ BACKLOG_BOT_AGENTS: "command,codex", BACKLOG_BOT_AGENT_COMMAND: "true" }));
  const log = createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const probot = new Probot({
    appId: 1,
    privateKey: pem,
    secret: "test",
    baseUrl: stub.baseUrl,
    log,
    Octokit: ProbotOctokit.defaults((o: Record<string, unknown>) => ({
      ...o,
      retry: { enabled: false },
      throttle: { ...(o.throttle as object), enabled: false },
    })),
  });
  let enqueued = 0;
  const aborted: number[] = [];
  const jobs = store ? createJobs({ db, databaseUrl: store.databaseUrl, log }) : createSqliteJobs({ db, log });
  // graphile-worker keeps its own pool: stopped when the test ends, before the store's own cleanup
  // (registered after it; vitest runs these in reverse). The SQLite jobs were never stopped here:
  // they are never started and hold nothing but the store, which the test destroys.
  if (store?.backend === "postgres") onTestFinished(() => jobs.stop(1_000));
  const requests: RequestDeps = {
    db,
    agents: registry,
    jobs,
    log,
    runner: {
      enqueue: async () => void enqueued++,
      abortLocal: (taskId) => aborted.push(taskId) > 0,
    },
  };
  await probot.load(createApp({ db, settings, agents: registry, requests, log, ...extra }));
  return {
    db,
    dataDir,
    probot,
    enqueued: () => enqueued,
    aborted,
    receive: (name, payload, id = randomUUID()) => probot.receive({ id, name, payload } as never),
  };
}
