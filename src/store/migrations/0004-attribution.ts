import type { Kysely } from "kysely";

/**
 * What makes a TODO rescan cheap (issue 14): each committed file version's TODOs and their line
 * authors, by path and blob id, and the last complete scan (its commit and the versions it found
 * TODOs in), both per scan settings (keywords and excludes). JSON as text, times as ISO text.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("attribution_versions")
    .addColumn("repository_id", "integer", (c) => c.notNull().references("repositories.id").onDelete("cascade"))
    .addColumn("settings", "text", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("blob", "text", (c) => c.notNull())
    .addColumn("hits", "text", (c) => c.notNull())
    .addColumn("authors", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("attribution_versions_pk", ["repository_id", "settings", "path", "blob"])
    .execute();

  await db.schema
    .createTable("attribution_scans")
    .addColumn("repository_id", "integer", (c) => c.notNull().references("repositories.id").onDelete("cascade"))
    .addColumn("settings", "text", (c) => c.notNull())
    .addColumn("commit_id", "text", (c) => c.notNull())
    .addColumn("files", "text", (c) => c.notNull())
    .addColumn("dirty", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("scanned_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("attribution_scans_pk", ["repository_id", "settings"])
    .execute();
}

/** Drops the two tables. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["attribution_scans", "attribution_versions"]) await db.schema.dropTable(table).execute();
}
