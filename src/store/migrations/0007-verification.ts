import type { Kysely } from "kysely";

/**
 * Verification (issue 10): the base commit's test results, cached per repository, base SHA and
 * command so a busy repository runs its suite on a base once; and per-round evidence on `runs`
 * (the round number, the verification as JSON, the anti-masking flags, the agent's session id for
 * resuming it in the next round); and the follow-ups of the bot's pull requests, which
 * `followUps.max` bounds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("verify_cache")
    .addColumn("repository_id", "integer", (c) => c.notNull().references("repositories.id").onDelete("cascade"))
    .addColumn("base_sha", "text", (c) => c.notNull())
    .addColumn("command_key", "text", (c) => c.notNull())
    .addColumn("result", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("verify_cache_pk", ["repository_id", "base_sha", "command_key"])
    .execute();
  await db.schema.createIndex("verify_cache_created").on("verify_cache").column("created_at").execute();
  // Follow-ups on the bot's PRs: what started each, on which head, and how it ended (bounded by `followUps.max`).
  await db.schema
    .createTable("follow_ups")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("task_id", "integer", (c) => c.notNull().references("tasks.id").onDelete("cascade"))
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("head_sha", "text", (c) => c.notNull())
    .addColumn("check_name", "text")
    .addColumn("outcome", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("ended_at", "text")
    .execute();
  await db.schema.createIndex("follow_ups_task").on("follow_ups").columns(["task_id", "id"]).execute();
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  await db.schema.alterTable("runs").addColumn("round", "integer").execute();
  await db.schema.alterTable("runs").addColumn("verification_detail", "text").execute();
  await db.schema.alterTable("runs").addColumn("masking_flags", "text").execute();
  await db.schema.alterTable("runs").addColumn("agent_session_id", "text").execute();
}

/** Drops the cache and the evidence columns. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ["agent_session_id", "masking_flags", "verification_detail", "round"]) {
    await db.schema.alterTable("runs").dropColumn(column).execute();
  }
  await db.schema.dropTable("follow_ups").execute();
  await db.schema.dropTable("verify_cache").execute();
}
