import { type Kysely, sql } from "kysely";

/**
 * The engine of issue 8: the durable job queue (SQLite backend of the jobs port), deliveries that
 * keep their payload until handled, task columns for the owner-checked lifecycle, and the circuit
 * breakers of agents and repositories.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("jobs")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("queue", "text")
    .addColumn("key", "text")
    /** `waiting`, `running` or `dead`; a finished job is deleted. */
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("run_at", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    .addColumn("locked_by", "text")
    .addColumn("locked_until", "text")
    .addColumn("last_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("jobs_pending_key")
    .on("jobs")
    .column("key")
    .unique()
    .where(sql.ref("state"), "in", ["waiting", "running"])
    .where(sql.ref("key"), "is not", null)
    .execute();
  await db.schema.createIndex("jobs_due").on("jobs").columns(["state", "run_at", "id"]).execute();

  // The delivery keeps its payload until its job is done; handled ones are pruned after a while.
  await db.schema.alterTable("deliveries").addColumn("payload", "text").execute();
  await db.schema
    .alterTable("deliveries")
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex("deliveries_pruning").on("deliveries").columns(["status", "processed_at"]).execute();

  // Tasks: when and where they were asked for (the prompt is built from the issue as it was then),
  // the attempt whose worktree is current, what the bot last pushed (--force-with-lease), a cancel request.
  await db.schema.alterTable("tasks").addColumn("requested_at", "text").execute();
  await db.schema.alterTable("tasks").addColumn("trigger_comment_id", "integer").execute();
  await db.schema.alterTable("tasks").addColumn("pushed_sha", "text").execute();
  await db.schema.alterTable("tasks").addColumn("cancel_requested_by", "text").execute();
  await db.schema.alterTable("tasks").addColumn("ended_at", "text").execute();
  // The workflow the person named (`/agent fix --workflow NAME`); null: the repository's default.
  await db.schema.alterTable("tasks").addColumn("workflow", "text").execute();
  // The reply owed on the issue (JSON { body, marker }), written in the same statement as the state
  // change it reports, so a crash between the two can never lose it (an outbox of one row).
  await db.schema.alterTable("tasks").addColumn("reply_pending", "text").execute();
  // One open task per issue and finding now covers `pr_open` too: a second request answers with the PR.
  await db.schema.dropIndex("tasks_one_open_per_issue").execute();
  // Older versions could open a second PR for an issue; keep the newest open one per issue.
  await sql`update tasks set state = 'closed' where state = 'pr_open' and issue_number is not null and id not in (select max(id) from tasks where state = 'pr_open' and issue_number is not null group by repository_id, issue_number)`.execute(
    db,
  );
  await db.schema.dropIndex("tasks_one_open_per_finding").execute();
  await db.schema
    .createIndex("tasks_one_open_per_issue")
    .on("tasks")
    .columns(["repository_id", "issue_number"])
    .unique()
    .where(sql.ref("state"), "in", ["queued", "running", "pr_open"])
    .where(sql.ref("issue_number"), "is not", null)
    .execute();
  await db.schema
    .createIndex("tasks_one_open_per_finding")
    .on("tasks")
    .columns(["finding_id"])
    .unique()
    .where(sql.ref("state"), "in", ["queued", "running", "pr_open"])
    .where(sql.ref("finding_id"), "is not", null)
    .execute();
  await db.schema.createIndex("tasks_repository_created").on("tasks").columns(["repository_id", "created_at"]).execute();

  // Connections the sandbox refused during the run (issue 11: shown in the run's record).
  await db.schema.alterTable("runs").addColumn("sandbox_denials", "integer").execute();

  await db.schema
    .createTable("circuit_breakers")
    /** `agent:<name>` or `repo:<id>`. */
    .addColumn("key", "text", (c) => c.primaryKey())
    /** `closed`, `open` or `half_open`. */
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("opened_at", "text")
    .addColumn("last_error", "text")
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("circuit_breakers").execute();
  await db.schema.dropTable("jobs").execute();
}
