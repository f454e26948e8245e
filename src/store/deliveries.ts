import { type Db, now } from "./db.js";
import type { DeliveryStatus } from "./schema.js";

/** The parts of a webhook delivery the store keeps. */
export interface DeliveryInput {
  id: string;
  event: string;
  action?: string | null;
  installationId?: number | null;
  repository?: string | null;
}

/**
 * Records a delivery before anything acts on it. Returns `"new"` the first time a delivery id is
 * seen, and also when an earlier attempt at it ended `failed` (GitHub's "Redeliver" button is how a
 * maintainer retries a failed one). Any other repeat is `"duplicate"` and must not be acted on.
 */
export async function recordDelivery(db: Db, input: DeliveryInput): Promise<"new" | "duplicate"> {
  const inserted = await db
    .insertInto("deliveries")
    .values({
      id: input.id,
      event: input.event,
      action: input.action ?? null,
      installation_id: input.installationId ?? null,
      repository: input.repository ?? null,
      status: "received",
      received_at: now(),
    })
    .onConflict((oc) => oc.column("id").doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return "new";
  const retried = await db
    .updateTable("deliveries")
    .set({ status: "received", error: null, received_at: now() })
    .where("id", "=", input.id)
    .where("status", "=", "failed")
    .executeTakeFirst();
  return Number(retried.numUpdatedRows) > 0 ? "new" : "duplicate";
}

/** Marks a delivery processed or failed (with the cause). */
export async function finishDelivery(db: Db, id: string, status: Exclude<DeliveryStatus, "received">, error?: string): Promise<void> {
  await db
    .updateTable("deliveries")
    .set({ status, error: error ?? null, processed_at: now() })
    .where("id", "=", id)
    .execute();
}
