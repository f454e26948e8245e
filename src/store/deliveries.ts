import type { Statement } from "better-sqlite3";
import { type Db, now, rawSqlite } from "./db.js";
import type { Delivery } from "./schema.js";

/** A verified webhook delivery, as the inbox records it. */
export interface IncomingDelivery {
  /** The `X-GitHub-Delivery` header. */
  id: string;
  /** The `X-GitHub-Event` header. */
  event: string;
  action: string | null;
  installationId: number | null;
  repository: string | null;
  /** The raw JSON body, kept until the delivery is handled. */
  payload: string;
  /**
   * No handler wants it (decided from the payload alone, e.g. a comment that is not a command): it is
   * recorded as handled at once, without its payload and without a job.
   */
  ignored?: boolean;
}

/** What recording a delivery came to: first seen, a redelivery of one not yet handled (resumed), or of a handled one (no-op). */
export type IntakeResult = "new" | "resumed" | "duplicate";

/** The job kind that handles a delivery; its dedupe key is `delivery:<id>`. */
export const DELIVERY_JOB = "delivery";
const jobKey = (id: string) => `delivery:${id}`;

/** Attempts of a delivery job before it is dead (GitHub or a handler failing all along). */
const DELIVERY_MAX_ATTEMPTS = 8;

/**
 * Returns the function the webhook inbox calls for each verified delivery. On SQLite it is one
 * transaction of prepared statements (statements built once): the delivery row with its payload,
 * and its `delivery` job (the jobs port's SQLite table), so a delivery acknowledged is a delivery
 * that will be handled, crash or not. On PostgreSQL (jobs on graphile-worker) the row is written
 * here and `enqueue` adds the job; deliveries left `received` without a job are queued again at
 * start (`resumeUnhandledDeliveries`).
 */
export function createDeliveryIntake(db: Db, enqueue: (id: string) => Promise<void>): (d: IncomingDelivery) => Promise<IntakeResult> {
  const sqlite = rawSqlite(db);
  if (sqlite) {
    const insertDelivery = sqlite.prepare(
      `insert into deliveries (id, event, action, installation_id, repository, status, received_at, payload, attempts)
       values (?, ?, ?, ?, ?, 'received', ?, ?, 0) on conflict (id) do nothing`,
    );
    const insertIgnored = sqlite.prepare(
      `insert into deliveries (id, event, action, installation_id, repository, status, received_at, processed_at, payload, attempts)
       values (?, ?, ?, ?, ?, 'processed', ?, ?, null, 0) on conflict (id) do nothing`,
    );
    const statusOf = sqlite.prepare("select status from deliveries where id = ?").pluck();
    const reopen = sqlite.prepare("update deliveries set status = 'received', error = null where id = ? and status = 'failed'");
    const insertJob = sqlite.prepare(
      `insert into jobs (kind, payload, queue, key, state, run_at, attempts, max_attempts, created_at, updated_at)
       values ('${DELIVERY_JOB}', ?, null, ?, 'waiting', ?, 0, ${DELIVERY_MAX_ATTEMPTS}, ?, ?) on conflict do nothing`,
    );
    const intake = sqlite.transaction((d: IncomingDelivery, at: string): IntakeResult => {
      if (d.ignored) {
        return insertIgnored.run(d.id, d.event, d.action, d.installationId, d.repository, at, at).changes > 0 ? "new" : "duplicate";
      }
      const fresh = insertDelivery.run(d.id, d.event, d.action, d.installationId, d.repository, at, d.payload).changes > 0;
      if (!fresh) {
        const status = statusOf.get(d.id) as string | undefined;
        if (status === "processed") return "duplicate";
        reopen.run(d.id);
      }
      insertJob.run(JSON.stringify({ deliveryId: d.id }), jobKey(d.id), at, at, at);
      return fresh ? "new" : "resumed";
    });
    return async (d) => intake.immediate(d, now());
  }
  return async (d) => {
    const at = now();
    const inserted = await db
      .insertInto("deliveries")
      .values({
        id: d.id,
        event: d.event,
        action: d.action,
        installation_id: d.installationId,
        repository: d.repository,
        status: d.ignored ? "processed" : "received",
        received_at: at,
        processed_at: d.ignored ? at : null,
        payload: d.ignored ? null : d.payload,
      })
      .onConflict((oc) => oc.column("id").doNothing())
      .returning("id")
      .executeTakeFirst();
    if (d.ignored) return inserted ? "new" : "duplicate";
    if (!inserted) {
      const row = await db.selectFrom("deliveries").select("status").where("id", "=", d.id).executeTakeFirst();
      if (row?.status === "processed") return "duplicate";
      await db
        .updateTable("deliveries")
        .set({ status: "received", error: null })
        .where("id", "=", d.id)
        .where("status", "=", "failed")
        .execute();
    }
    await enqueue(d.id);
    return inserted ? "new" : "resumed";
  };
}

/** The dedupe key of a delivery's job (for backends that add it through the port). */
export function deliveryJobKey(id: string): string {
  return jobKey(id);
}

export async function getDelivery(db: Db, id: string): Promise<Delivery | undefined> {
  const select = statement(db, "select * from deliveries where id = ?");
  if (select) return select.get(id) as Delivery | undefined;
  return db.selectFrom("deliveries").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Marks a delivery handled (its payload is dropped: it is no longer needed) or failed with the cause. */
export async function finishDelivery(db: Db, id: string, status: "processed" | "failed", error?: string): Promise<void> {
  const at = now();
  const message = error?.slice(0, 4000) ?? null;
  const update = statement(
    db,
    `update deliveries set status = ?, error = ?, processed_at = ?, attempts = attempts + 1,
       payload = case when ? = 'processed' then null else payload end where id = ?`,
  );
  if (update) {
    update.run(status, message, at, status, id);
    return;
  }
  await db
    .updateTable("deliveries")
    .set((eb) => ({
      status,
      error: message,
      processed_at: at,
      attempts: eb("attempts", "+", 1),
      ...(status === "processed" && { payload: null }),
    }))
    .where("id", "=", id)
    .execute();
}

/** Statements of the delivery path, prepared once per SQLite store (a delivery's job runs them on every delivery). */
const statements = new WeakMap<Db, Map<string, SQLiteStatement>>();
type SQLiteStatement = Statement<unknown[]>;
function statement(db: Db, text: string): SQLiteStatement | undefined {
  const sqlite = rawSqlite(db);
  if (!sqlite) return undefined;
  let cache = statements.get(db);
  if (!cache) {
    cache = new Map();
    statements.set(db, cache);
  }
  let prepared = cache.get(text);
  if (!prepared) {
    prepared = sqlite.prepare(text);
    cache.set(text, prepared);
  }
  return prepared;
}

/** Deliveries recorded but not handled (a crash, or jobs on another backend): their ids, to queue again. */
export async function unhandledDeliveries(db: Db): Promise<string[]> {
  const rows = await db.selectFrom("deliveries").select("id").where("status", "=", "received").execute();
  return rows.map((r) => r.id);
}

/**
 * Deletes handled deliveries older than `olderThanMs` (their ids no longer needed to recognise a
 * redelivery); failed ones are kept for the operator.
 * @returns how many were deleted.
 */
export async function pruneDeliveries(db: Db, olderThanMs: number): Promise<number> {
  const result = await db
    .deleteFrom("deliveries")
    .where("status", "=", "processed")
    .where("processed_at", "<", new Date(Date.now() - olderThanMs).toISOString())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
