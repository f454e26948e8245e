import type { EmitterWebhookEventName } from "@octokit/webhooks";
import type { Context } from "probot";
import type { Settings } from "../config/env.js";
import type { AgentRegistry } from "../executor/agents/registry.js";
import type { FollowUpRunner } from "../executor/follow-up-jobs.js";
import type { RequestDeps } from "../executor/requests.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import type { Db } from "../store/db.js";
import type { Logger } from "../util/logger.js";

/**
 * What every handler may use. Handlers run inside a delivery's job (never on the request path):
 * they check, record, start work through the request service and answer.
 */
export interface HandlerDeps {
  db: Db;
  settings: Settings;
  agents: AgentRegistry;
  /** The task request service (limits, one open task per issue, cancel, retry). */
  requests: RequestDeps;
  /** Owns scans (mirror fetches, log downloads); absent in tests that need none. */
  scheduler?: Scheduler;
  /** Queues follow-ups on the bot's own pull requests (issue 10); absent: follow-ups are off. */
  followUps?: Pick<FollowUpRunner, "enqueue">;
}

/** A webhook handler for event `E`, given a child logger bound to the delivery. */
export type Handler<E extends EmitterWebhookEventName> = (context: Context<E>, deps: HandlerDeps, log: Logger) => Promise<void>;
