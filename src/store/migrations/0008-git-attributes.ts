import type { Kysely } from "kysely";

/**
 * Issue 9 (ranking v2 in the live app): the root `.gitattributes` of each repository's default
 * branch, as read by the last scan that looked, so every surface ranks with its
 * `linguist-vendored` / `linguist-generated` rules. One row per repository; the text is kept as
 * written (parsed at ranking time, so a better parser applies without a rescan).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("git_attributes")
    .addColumn("repository_id", "integer", (c) => c.primaryKey().references("repositories.id").onDelete("cascade"))
    /** The commit the file was read at. */
    .addColumn("commit_id", "text", (c) => c.notNull())
    /** The file's text; empty when the commit has no `.gitattributes`. */
    .addColumn("content", "text", (c) => c.notNull())
    .addColumn("read_at", "text", (c) => c.notNull())
    .execute();
}

/** Drops the table. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("git_attributes").execute();
}
