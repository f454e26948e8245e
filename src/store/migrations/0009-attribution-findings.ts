import { type Kysely, sql } from "kysely";

/**
 * Issue 14: a stored file version keeps its findings as built (fingerprint, title, signals), not
 * the raw hits they are built from, so a rescan that reuses it parses them and builds nothing.
 * The tables are a cache of what git can tell again: the rows written in the old shape are
 * dropped, and the next scan of each repository is a cold one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM attribution_versions`.execute(db);
  await sql`DELETE FROM attribution_scans`.execute(db);
  await db.schema.alterTable("attribution_versions").renameColumn("hits", "findings").execute();
}

/** Renames the column back; the rows written since are dropped, as their JSON has the new shape. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM attribution_versions`.execute(db);
  await sql`DELETE FROM attribution_scans`.execute(db);
  await db.schema.alterTable("attribution_versions").renameColumn("findings", "hits").execute();
}
