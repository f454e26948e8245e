import { getPrivateKey } from "@probot/get-private-key";
import { Probot, Server } from "probot";
import { createApp } from "./app.js";
import { loadSettings } from "./config/env.js";
import { createAgentRegistry } from "./executor/agents/registry.js";
import { loadAgentSettings } from "./executor/agents/settings.js";
import { Executor } from "./executor/queue.js";
import { createAppAccess } from "./github/access.js";
import { createScheduler, type Scheduler } from "./scheduler/scheduler.js";
import { openDb } from "./store/db.js";
import { createLogger, registerSecret } from "./util/logger.js";

/** A running backlog-bot: the webhook server, the executor, the scan scheduler, and how to stop them. */
export interface Running {
  server: Server;
  executor: Executor;
  scheduler: Scheduler;
  stop(): Promise<void>;
}

/**
 * Starts the Probot server with Probot's standard variables (APP_ID, PRIVATE_KEY or
 * PRIVATE_KEY_PATH, WEBHOOK_SECRET, HOST, PORT, GHE_HOST, GHE_PROTOCOL, LOG_LEVEL) and
 * backlog-bot's own (see config/env.ts), the executor that runs queued tasks, and the scheduler
 * that scans every installed repository on its cron schedule.
 * @throws BacklogBotError `INVALID_SETTINGS` for a bad setting, `STORE_TOO_NEW` for a newer database; Error when APP_ID, the private key or WEBHOOK_SECRET is missing.
 */
export async function start(env: NodeJS.ProcessEnv = process.env): Promise<Running> {
  const log = createLogger({ level: env.LOG_LEVEL ?? "info" });
  const settings = loadSettings(env);
  const appId = Number(env.APP_ID);
  const privateKey = getPrivateKey({ env }) ?? undefined;
  const secret = env.WEBHOOK_SECRET;
  if (!appId || !privateKey || !secret) {
    throw new Error("APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET must be set: see the README, 'Register the GitHub App'.");
  }
  registerSecret(secret);
  for (const line of privateKey.split("\n")) if (line.length > 20 && !line.startsWith("-----")) registerSecret(line);

  const db = await openDb(settings.dataDir);
  const agents = createAgentRegistry(loadAgentSettings(env));
  const baseUrl = env.GHE_HOST ? `${env.GHE_PROTOCOL || "https"}://${env.GHE_HOST}/api/v3` : undefined;
  const ProbotWithOptions = Probot.defaults({ appId, privateKey, secret, log, ...(baseUrl && { baseUrl }) });
  const access = createAppAccess(new ProbotWithOptions());
  const executor = new Executor({ db, settings, agents, github: access, log });
  const scheduler = createScheduler({ db, access, dataDir: settings.dataDir, log });
  const server = new Server({
    Probot: ProbotWithOptions,
    log,
    host: env.HOST ?? "localhost",
    port: Number(env.PORT) || 3000,
  });
  await server.load(createApp({ db, settings, agents, enqueue: () => executor.enqueue(), scheduler, log }));
  await server.start();
  await executor.start();
  await scheduler.start();
  log.info({ dataDir: settings.dataDir, agents: agents.enabled, concurrency: settings.concurrency }, "backlog-bot started");

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      log.info("stopping: no new deliveries, waiting for running tasks");
      await server.stop();
      await scheduler.stop();
      await executor.stop();
      await db.destroy();
    })();
    return stopping;
  };
  return { server, executor, scheduler, stop };
}

// Run when executed directly (`npm start`), not when imported by tests or the CLI.
if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const running = await start();
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        void running.stop().then(() => process.exit(0));
      });
    }
  } catch (error) {
    console.error(`backlog-bot: ${(error as Error).message}`);
    process.exit(1);
  }
}
