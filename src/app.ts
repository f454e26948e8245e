import type { EmitterWebhookEventName } from "@octokit/webhooks";
import type { ApplicationFunction, Context, Probot } from "probot";
import { HANDLER_FILTERS, handlers } from "./handlers/index.js";
import { payloadProblem } from "./handlers/payloads.js";
import { followRepositoryName, type PayloadRepository } from "./handlers/repository.js";
import type { HandlerDeps } from "./handlers/types.js";
import type { Jobs } from "./jobs/types.js";
import type { Db } from "./store/db.js";
import { DELIVERY_JOB, deliveryJobKey, finishDelivery, getDelivery, unhandledDeliveries } from "./store/deliveries.js";
import { isInstallationSuspended } from "./store/repositories.js";
import type { Logger } from "./util/logger.js";
import { metrics } from "./util/metrics.js";

/** The handler key of a delivery: `event.action`, or `event` for events without actions. */
export function eventKey(name: string, payload: { action?: unknown }): string {
  return typeof payload.action === "string" ? `${name}.${payload.action}` : name;
}

/**
 * The Probot app: routes each event to its handler by `event.action`. Wiring only; handlers decide.
 * It runs inside the `delivery` job (see `registerDeliveryJobs`), never on the request path.
 */
export function createApp(deps: HandlerDeps & { log: Logger }): ApplicationFunction {
  return (app) => {
    app.onAny(async (context) => {
      const key = eventKey(context.name, context.payload as { action?: unknown }) as EmitterWebhookEventName;
      const handler = handlers[key] as ((c: Context, d: HandlerDeps, l: Logger) => Promise<void>) | undefined;
      if (!handler) return;
      const repository = (context.payload as { repository?: PayloadRepository }).repository;
      const log = deps.log.child({ deliveryId: context.id, event: key, repo: repository?.full_name });
      const installationId = (context.payload as { installation?: { id?: unknown } }).installation?.id;
      if (
        context.name !== "installation" &&
        typeof installationId === "number" &&
        (await isInstallationSuspended(deps.db, installationId))
      ) {
        // GitHub sends a suspended installation no events but `installation` ones; one that arrives
        // anyway (sent just before the suspension) starts nothing: no token could be minted for it.
        log.info({ installationId }, "delivery for a suspended installation; nothing done");
        return;
      }
      // Before any handler reads its row by name: a repository GitHub renamed or transferred keeps its row.
      if (typeof repository?.full_name === "string") await followRepositoryName(deps, repository, log);
      await handler(context as Context, deps, log);
    });
  };
}

/** Whether a handler would act on a delivery of `event` with this payload (the inbox records the others as handled, with no job). */
export function deliveryWanted(event: string, payload: unknown): boolean {
  return wanted(eventKey(event, (payload ?? {}) as { action?: unknown }), payload);
}

/** Whether a handler would act on this delivery: it has one, and its filter (if any) passes. */
function wanted(key: string, payload: unknown): boolean {
  if (!(key in handlers)) return false;
  const filter = HANDLER_FILTERS[key];
  return filter ? filter(payload) : true;
}

/** Payload of a `delivery` job. */
export interface DeliveryJob {
  deliveryId: string;
}

/**
 * Registers the `delivery` job: the recorded delivery is handed to Probot (`probot.receive`, which
 * builds the installation-authenticated context and runs the app's handlers); the delivery is
 * marked processed only when its handler finished. A payload missing what its handler reads is
 * recorded `failed` with the field's path (no retry: it would fail the same way). A handler error
 * marks it `failed` with the cause and the job retries with backoff; GitHub's "Redeliver" resumes a
 * failed one. Deliveries left recorded but unhandled (a crash before their job existed) are queued again.
 */
export async function registerDeliveryJobs(deps: { jobs: Jobs; probot: Probot; db: Db; log: Logger }): Promise<void> {
  const { jobs, probot, db } = deps;
  jobs.handle<DeliveryJob>(
    DELIVERY_JOB,
    async ({ deliveryId }, ctx) => {
      const delivery = await getDelivery(db, deliveryId);
      if (!delivery || delivery.status === "processed") return;
      const log = ctx.log.child({ deliveryId, event: delivery.event });
      let payload: { action?: unknown };
      try {
        payload = JSON.parse(delivery.payload ?? "null");
      } catch {
        payload = null as never;
      }
      const key = payload ? eventKey(delivery.event, payload) : delivery.event;
      if (payload && !wanted(key, payload)) {
        // No handler reads it (or its cheap filter says no): done without building a Probot context,
        // whose installation-authenticated Octokit costs more than everything else a delivery needs.
        await finishDelivery(db, deliveryId, "processed");
        metrics.deliveries.inc({ event: delivery.event, outcome: "ignored" });
        return;
      }
      const problem = payload ? payloadProblem(key, payload) : "the payload is missing";
      if (problem) {
        log.warn({ problem, key }, "delivery refused: its payload lacks what the handler reads");
        await finishDelivery(db, deliveryId, "failed", `invalid payload: ${problem}`);
        metrics.deliveries.inc({ event: delivery.event, outcome: "invalid" });
        return;
      }
      try {
        await probot.receive({ id: deliveryId, name: delivery.event, payload } as never);
      } catch (error) {
        const message = error instanceof AggregateError ? error.errors.map((e: Error) => e.message).join("; ") : (error as Error).message;
        await finishDelivery(db, deliveryId, "failed", message);
        metrics.deliveries.inc({ event: delivery.event, outcome: "failed" });
        throw error;
      }
      await finishDelivery(db, deliveryId, "processed");
      metrics.deliveries.inc({ event: delivery.event, outcome: "processed" });
      metrics.deliveryHandling.observe({ event: delivery.event }, (Date.now() - Date.parse(delivery.received_at)) / 1000);
    },
    { concurrency: 4 },
  );
  for (const id of await unhandledDeliveries(db)) {
    await jobs.add<DeliveryJob>({ kind: DELIVERY_JOB, payload: { deliveryId: id }, key: deliveryJobKey(id) });
  }
}
