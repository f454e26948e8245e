import type { Kysely } from "kysely";

/**
 * GitHub's numeric repository id on each repository row: the one identity that survives a rename or
 * a transfer (`full_name` does not). Null for a local checkout scanned by the CLI, and for rows
 * written before this migration until the next payload naming the repository records it. Unique when
 * set; both SQLite and PostgreSQL let a unique index hold any number of nulls.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("repositories").addColumn("github_id", "integer").execute();
  await db.schema.createIndex("repositories_github_id").on("repositories").column("github_id").unique().execute();
}

/** Drops the index and the column. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("repositories_github_id").execute();
  await db.schema.alterTable("repositories").dropColumn("github_id").execute();
}
