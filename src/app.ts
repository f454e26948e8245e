import type { EmitterWebhookEventName } from "@octokit/webhooks";
import type { ApplicationFunction, Context } from "probot";
import { handlers } from "./handlers/index.js";
import type { HandlerDeps } from "./handlers/types.js";
import { finishDelivery, recordDelivery } from "./store/deliveries.js";
import type { Logger } from "./util/logger.js";

/**
 * The Probot app: every delivery is recorded once (a redelivery of a processed one stops here),
 * then routed to its handler by `event.action`. Wiring only; handlers decide.
 */
export function createApp(deps: HandlerDeps & { log: Logger }): ApplicationFunction {
  return (app) => {
    app.onAny(async (context) => {
      const payload = context.payload as { action?: string; installation?: { id: number }; repository?: { full_name: string } };
      const key = (payload.action ? `${context.name}.${payload.action}` : context.name) as EmitterWebhookEventName;
      const handler = handlers[key] as ((c: Context, d: HandlerDeps, l: Logger) => Promise<void>) | undefined;
      const log = deps.log.child({ deliveryId: context.id, event: key, repo: payload.repository?.full_name });
      const fresh = await recordDelivery(deps.db, {
        id: context.id,
        event: context.name,
        action: payload.action ?? null,
        installationId: payload.installation?.id ?? null,
        repository: payload.repository?.full_name ?? null,
      });
      if (fresh === "duplicate") {
        log.info("delivery already handled; ignoring the redelivery");
        return;
      }
      try {
        if (handler) await handler(context as Context, deps, log);
        await finishDelivery(deps.db, context.id, "processed");
      } catch (error) {
        log.error({ err: error }, "delivery failed");
        await finishDelivery(deps.db, context.id, "failed", (error as Error).message);
        throw error;
      }
    });
  };
}
