import type { Kysely } from "kysely";

/**
 * The audit log (DESIGN.md "Data model", issue 12): one row per action the bot takes on GitHub and
 * per command it accepted or refused. Append-only; read newest first, so the id index serves paging.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("audit")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("repository", "text")
    .addColumn("target", "text")
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("detail", "text")
    .execute();
  await db.schema.createIndex("audit_repository").on("audit").columns(["repository", "id"]).execute();
}

/** Drops the audit table. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("audit").execute();
}
