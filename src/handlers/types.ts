import type { EmitterWebhookEventName } from "@octokit/webhooks";
import type { Context } from "probot";
import type { Settings } from "../config/env.js";
import type { AgentRegistry } from "../executor/agents/registry.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import type { Db } from "../store/db.js";
import type { Logger } from "../util/logger.js";

/** What every handler may use. Handlers check, record, enqueue and answer; slow work goes to the executor or scheduler. */
export interface HandlerDeps {
  db: Db;
  settings: Settings;
  agents: AgentRegistry;
  /** Wakes the executor: a task was queued. Never waits for the task. */
  enqueue: () => void;
  /** Owns the per-installation queues that scans (mirror fetches, log downloads) run on; absent in tests that need none. */
  scheduler?: Scheduler;
}

/** A webhook handler for event `E`, given a child logger bound to the delivery. */
export type Handler<E extends EmitterWebhookEventName> = (context: Context<E>, deps: HandlerDeps, log: Logger) => Promise<void>;
