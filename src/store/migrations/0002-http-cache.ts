import type { Kysely } from "kysely";

/**
 * What makes repeat scans cheap: ETags of GitHub responses (a conditional request answered
 * `304 Not Modified` does not count against the rate limit:
 * https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate),
 * a snapshot of each repository's open issues kept current with `since`, and per-repository scan cursors.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("http_cache")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("etag", "text")
    .addColumn("last_modified", "text")
    .addColumn("body", "text")
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("issue_snapshots")
    .addColumn("repository_id", "integer", (c) => c.notNull().references("repositories.id").onDelete("cascade"))
    .addColumn("number", "integer", (c) => c.notNull())
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("author", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("labels", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("assignees", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("milestone", "text")
    .addColumn("reactions", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("comments", "integer", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("issue_snapshots_pk", ["repository_id", "number"])
    .execute();

  await db.schema
    .createTable("scan_cursors")
    .addColumn("repository_id", "integer", (c) => c.notNull().references("repositories.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("scan_cursors_pk", ["repository_id", "name"])
    .execute();
}

/** Drops the three tables. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["scan_cursors", "issue_snapshots", "http_cache"]) await db.schema.dropTable(table).execute();
}
