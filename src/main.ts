import { createServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Probot, ProbotOctokit } from "probot";
import { createApp, deliveryWanted, registerDeliveryJobs } from "./app.js";
import { type Environment, loadEnvironment } from "./config/environment.js";
import { createAgentRegistry } from "./executor/agents/registry.js";
import { loadAgentSettings } from "./executor/agents/settings.js";
import { CircuitBreakers } from "./executor/circuit-breaker.js";
import { FollowUpRunner } from "./executor/follow-up-jobs.js";
import { registerReplyJobs } from "./executor/replies.js";
import type { RequestDeps } from "./executor/requests.js";
import { TaskRunner } from "./executor/task-jobs.js";
import { createAppAccess } from "./github/access.js";
import { createWebhookInbox } from "./handlers/inbox.js";
import { createJobs, createLeadership } from "./jobs/index.js";
import type { Jobs } from "./jobs/types.js";
import { sandboxModeFromEnv, sandboxStatus, startSandbox } from "./sandbox/status.js";
import { autopilotSchedules } from "./scheduler/autopilot.js";
import { enqueueAutopilot, handleAutopilotJobs } from "./scheduler/autopilot-jobs.js";
import { handleDashboardJobs, requestDashboardSync } from "./scheduler/dashboard.js";
import { createScheduler, type Scheduler } from "./scheduler/scheduler.js";
import { auditGithubWrites } from "./store/audit-github.js";
import { type Db, now, openDb } from "./store/db.js";
import { createDeliveryIntake, DELIVERY_JOB, deliveryJobKey, pruneDeliveries } from "./store/deliveries.js";
import { setInstallationSuspended } from "./store/repositories.js";
import { BacklogBotError } from "./util/errors.js";
import { githubMetricsPlugin } from "./util/github-metrics.js";
import { createLogger, type Logger } from "./util/logger.js";
import { initProcessRegistry, killAllChildren, killLeftovers } from "./util/process-registry.js";
import { createGitHubRepoAccess } from "./web/auth/access.js";
import { githubCheck, jobQueueCheck } from "./web/health.js";
import { closeEventStreams, createWebHandler } from "./web/index.js";
import { connectMetricSources } from "./web/metrics-sources.js";
import { createTaskRequests } from "./web/requests.js";

/** A running backlog-bot: its HTTP server, store, jobs and how to stop them. */
export interface Running {
  http: HttpServer;
  /** The port it listens on (useful with `PORT=0`). */
  port: number;
  db: Db;
  jobs: Jobs;
  runner: TaskRunner;
  scheduler: Scheduler;
  log: Logger;
  /** Stops taking requests, lets running jobs reach a safe point within `graceMs` (default 20 s) or releases them, and closes the store. */
  stop(graceMs?: number): Promise<void>;
}

/** How often (ms) handled deliveries older than the retention are pruned. */
const PRUNE_EVERY_MS = 60 * 60_000;

/**
 * Starts backlog-bot's server: one Probot instance (authentication and event routing), the webhook
 * inbox and web routes on one HTTP server, the durable jobs (deliveries, task runs, replies), the
 * task runner and the scan scheduler. The environment is read once (`loadEnvironment`); secrets
 * leave `process.env`.
 * @throws BacklogBotError `INVALID_SETTINGS` for a bad setting, `STORE_TOO_NEW` for a newer database.
 */
export async function start(env: NodeJS.ProcessEnv = process.env, options: { role?: string } = {}): Promise<Running> {
  // Read before loadEnvironment() removes it from the environment: no sandboxed run may read the key file.
  const keyPath = env.PRIVATE_KEY_PATH;
  const environment = loadEnvironment(env, options);
  const { settings } = environment;
  const log = createLogger({ level: environment.logLevel });
  const app = environment.app;
  if (!app) {
    throw new BacklogBotError(
      "APP_NOT_REGISTERED",
      "APP_ID is not set: register the GitHub App first (README, 'Register the GitHub App') and set APP_ID, PRIVATE_KEY_PATH and WEBHOOK_SECRET.",
    );
  }
  if (settings.dataDir !== ":memory:") {
    initProcessRegistry(settings.dataDir);
    const killed = killLeftovers();
    if (killed > 0) log.warn({ processGroups: killed }, "killed process groups a dead predecessor left running");
  }
  await startSandbox({ mode: sandboxModeFromEnv(env), hidden: [settings.dataDir, ...(keyPath ? [keyPath] : [])], log });
  const db = await openDb(settings.dataDir, { ...(settings.databaseUrl && { databaseUrl: settings.databaseUrl }) });
  const jobs = createJobs({ db, databaseUrl: settings.databaseUrl, log });
  const agents = createAgentRegistry(loadAgentSettings(env));
  const probot = createProbot(environment, db, log);
  // A token refused as suspended records the suspension (an `installation.suspend` missed): the work waits.
  const github = createAppAccess(probot, { onSuspended: (id) => setInstallationSuspended(db, id, now()) });
  const breakers = new CircuitBreakers(db, settings.breaker, log);
  const runner = new TaskRunner({ db, settings, agents, github, jobs, breakers, log });
  const followUps = new FollowUpRunner({ db, settings, agents, github, jobs, breakers, log });
  const requests: RequestDeps = { db, agents, runner, jobs, log, budget: settings.budget };
  // One process of all those on a PostgreSQL store fires the scheduled slots (SQLite: this one).
  const leadership = createLeadership({ ...(settings.databaseUrl && { databaseUrl: settings.databaseUrl }), name: "scheduler", log });
  const scheduler = createScheduler({
    db,
    access: github,
    isLeader: () => leadership.isLeader(),
    dataDir: settings.dataDir,
    log,
    // A scan may change the backlog (dashboard) and read a new config (autopilot's schedule).
    afterScan: async (repository) => {
      await requestDashboardSync(jobs, repository);
      await autopilot.sync();
    },
  });
  const autopilot = autopilotSchedules({
    db,
    log,
    // The tick only enqueues the slot's job (deduplicated per slot); the job picks, and retries after a crash.
    run: async (repository, slot) => {
      if (leadership.isLeader()) await enqueueAutopilot(jobs, repository, slot);
    },
  });
  await probot.load(createApp({ db, settings, agents, requests, scheduler, followUps, log }));

  const worker = environment.role !== "web";
  if (worker) {
    await registerDeliveryJobs({ jobs, probot, db, log });
    await registerReplyJobs({ db, jobs, github, log });
    handleDashboardJobs(jobs, { db, access: github, log });
    handleAutopilotJobs(jobs, { db, requests });
    await runner.start();
    followUps.start();
  }

  const intake = createDeliveryIntake(db, (id) =>
    jobs.add({ kind: DELIVERY_JOB, payload: { deliveryId: id }, key: deliveryJobKey(id) }).then(() => {}),
  );
  connectMetricSources(db, jobs);
  const web = createWebHandler({
    db,
    log: log.child({ component: "web" }),
    access: createGitHubRepoAccess({
      db,
      apiBaseUrl: environment.apiBaseUrl,
      installationOctokit: (id) => github.octokit(id),
    }),
    requests: createTaskRequests(requests),
    ...(environment.oauth && { oauth: { ...environment.oauth, apiBaseUrl: environment.apiBaseUrl } }),
    sessionSecret: environment.sessionSecret,
    ...(environment.apiToken && { apiToken: environment.apiToken }),
    metrics: environment.publicMetrics,
    readyChecks: {
      job_queue: jobQueueCheck(() => jobs.stats()),
      github: githubCheck(async () => (await probot.auth()).rest.apps.getAuthenticated()),
      sandbox: async () => {
        const status = sandboxStatus();
        if (status.mode === "on" && status.ready === false)
          throw new BacklogBotError("SANDBOX_UNAVAILABLE", status.problem ?? "the sandbox does not work here: run `backlog-bot doctor`");
      },
    },
  });
  const routes: Array<(req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>> = [
    createWebhookInbox({
      secret: app.webhookSecret,
      intake,
      wanted: deliveryWanted,
      onRecorded: () => jobs.notify(),
      log,
      bodyTimeoutMs: settings.bodyTimeoutMs,
    }),
    web,
    (req, res) => {
      if (req.url !== "/ping") return false;
      res.writeHead(200, { "content-type": "text/plain" }).end("PONG");
      return true;
    },
  ];
  const http = createServer((req, res) => {
    void (async () => {
      for (const route of routes) if (await route(req, res)) return;
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
    })().catch((err: unknown) => {
      log.error({ err, url: req.url }, "request failed");
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  http.requestTimeout = Math.max(settings.bodyTimeoutMs * 2, 30_000);
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(environment.port, environment.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;

  if (worker) {
    await jobs.start();
    await leadership.start();
    await scheduler.start();
    await autopilot.sync();
  }
  const prune = setInterval(() => {
    pruneDeliveries(db, settings.deliveryRetentionMs)
      .then((n) => n > 0 && log.info({ deliveries: n }, "pruned handled deliveries"))
      .catch((err: unknown) => log.warn({ err }, "could not prune deliveries"));
  }, PRUNE_EVERY_MS);
  prune.unref();
  log.info(
    { port, role: environment.role, dataDir: settings.dataDir, agents: agents.enabled, concurrency: settings.concurrency },
    "backlog-bot started",
  );

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 20_000) => {
    stopping ??= (async () => {
      log.info("stopping: no new deliveries; running jobs reach a safe point or are released");
      clearInterval(prune);
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      closeEventStreams();
      runner.stop();
      await scheduler.stop();
      await leadership.stop();
      await autopilot.stop();
      await jobs.stop(graceMs);
      killAllChildren();
      await closed;
      await db.destroy();
      log.info("stopped");
    })();
    return stopping;
  };
  return { http, port, db, jobs, runner, scheduler, log, stop };
}

/**
 * The one Probot instance of the process: app authentication and event routing (its own HTTP server
 * is not used). Its Octokit counts GitHub requests for `/metrics` and audits every write it makes.
 */
function createProbot(environment: Environment, db: Db, log: Logger): Probot {
  const app = environment.app as NonNullable<Environment["app"]>;
  const Octokit = ProbotOctokit.plugin(
    githubMetricsPlugin,
    auditGithubWrites(db, (err) => log.warn({ err }, "could not write an audit row")),
  );
  return new Probot({
    appId: app.appId,
    privateKey: app.privateKey,
    secret: app.webhookSecret,
    baseUrl: environment.apiBaseUrl,
    log: log.child({ name: "probot" }),
    Octokit,
  });
}

/** Runs the server until SIGINT/SIGTERM; a stray rejected promise is logged, never fatal. */
export async function runServer(options: { role?: string } = {}): Promise<void> {
  if (!process.env.APP_ID) {
    // First start: register the app in the browser from app.yml, as `probot run` does; the
    // credentials land in .env and the next start is the real server.
    const log = createLogger({ level: process.env.LOG_LEVEL ?? "info" });
    const { startSetupServer } = await import("./web/setup.js");
    await startSetupServer(process.env, { log });
    return;
  }
  // Registered before start: job handlers already run while start still awaits the scheduler and autopilot.
  let log = createLogger({ level: process.env.LOG_LEVEL ?? "info" });
  process.on("unhandledRejection", (reason) => log.error({ err: reason }, "unhandled rejection (a bug): the process goes on"));
  const running = await start(process.env, options);
  log = running.log;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      running.log.info({ signal }, "signal received");
      void running.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          running.log.error({ err }, "stop failed");
          process.exit(1);
        },
      );
    });
  }
}

// Run when executed directly (`npm start`), not when imported by tests or the CLI.
if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    await runServer();
  } catch (error) {
    console.error(`backlog-bot: ${(error as Error).message}`);
    process.exit(1);
  }
}
