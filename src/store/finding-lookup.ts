import { type Db, now } from "./db.js";
import type { FindingRow } from "./schema.js";

/** The finding with `fingerprint` in a repository, resolved or not. */
export async function getFindingByFingerprint(db: Db, repositoryId: number, fingerprint: string): Promise<FindingRow | undefined> {
  return db
    .selectFrom("findings")
    .selectAll()
    .where("repository_id", "=", repositoryId)
    .where("fingerprint", "=", fingerprint)
    .executeTakeFirst();
}

/** Marks one finding resolved (a failing check that passed); never deletes it. */
export async function resolveFinding(db: Db, id: number): Promise<void> {
  await db.updateTable("findings").set({ resolved_at: now(), last_seen_at: now() }).where("id", "=", id).execute();
}

/** Replaces a finding's signals (JSON) without touching its state. */
export async function updateFindingSignals(db: Db, id: number, signals: unknown): Promise<void> {
  await db
    .updateTable("findings")
    .set({ signals: JSON.stringify(signals), last_seen_at: now() })
    .where("id", "=", id)
    .execute();
}
