import { type Kysely, sql } from "kysely";

/** The five tables of DESIGN.md. Written with Kysely's schema builder so PostgreSQL can run it too. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("repositories")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("full_name", "text", (c) => c.notNull().unique())
    .addColumn("installation_id", "integer")
    .addColumn("default_branch", "text", (c) => c.notNull().defaultTo("main"))
    .addColumn("clone_url", "text")
    .addColumn("config", "text")
    .addColumn("config_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("findings")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("repository_id", "integer", (c) => c.notNull().references("repositories.id").onDelete("cascade"))
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("body", "text")
    .addColumn("path", "text")
    .addColumn("line", "integer")
    .addColumn("url", "text")
    .addColumn("issue_number", "integer")
    .addColumn("signals", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("first_seen_at", "text", (c) => c.notNull())
    .addColumn("last_seen_at", "text", (c) => c.notNull())
    .addColumn("resolved_at", "text")
    .addColumn("dismissed_at", "text")
    .addUniqueConstraint("findings_repository_fingerprint", ["repository_id", "fingerprint"])
    .execute();
  await db.schema.createIndex("findings_open").on("findings").columns(["repository_id", "kind", "resolved_at"]).execute();

  await db.schema
    .createTable("tasks")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("repository_id", "integer", (c) => c.notNull().references("repositories.id").onDelete("cascade"))
    .addColumn("finding_id", "integer", (c) => c.references("findings.id").onDelete("set null"))
    .addColumn("issue_number", "integer")
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("instructions", "text")
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("agent", "text")
    .addColumn("branch", "text")
    .addColumn("pr_number", "integer")
    .addColumn("pr_url", "text")
    .addColumn("requested_by", "text", (c) => c.notNull())
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("lease_owner", "text")
    .addColumn("lease_expires_at", "text")
    .addColumn("error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  // One open task per issue and per finding: the database, not the handler, is what makes a
  // second `/agent fix` (or a redelivery racing the first) unable to create a twin.
  await db.schema
    .createIndex("tasks_one_open_per_issue")
    .on("tasks")
    .columns(["repository_id", "issue_number"])
    .unique()
    .where(sql.ref("state"), "in", ["queued", "running"])
    .where(sql.ref("issue_number"), "is not", null)
    .execute();
  await db.schema
    .createIndex("tasks_one_open_per_finding")
    .on("tasks")
    .columns(["finding_id"])
    .unique()
    .where(sql.ref("state"), "in", ["queued", "running"])
    .where(sql.ref("finding_id"), "is not", null)
    .execute();
  await db.schema.createIndex("tasks_state").on("tasks").columns(["state", "id"]).execute();

  await db.schema
    .createTable("runs")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("task_id", "integer", (c) => c.notNull().references("tasks.id").onDelete("cascade"))
    .addColumn("agent", "text", (c) => c.notNull())
    .addColumn("started_at", "text", (c) => c.notNull())
    .addColumn("ended_at", "text")
    .addColumn("exit_code", "integer")
    .addColumn("outcome", "text")
    .addColumn("summary", "text")
    .addColumn("turns", "integer")
    .addColumn("input_tokens", "integer")
    .addColumn("output_tokens", "integer")
    .addColumn("cost_usd", "real")
    .addColumn("verification", "text")
    .addColumn("diff_stat", "text")
    .addColumn("transcript_path", "text")
    .addColumn("error", "text")
    .execute();

  await db.schema
    .createTable("deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("action", "text")
    .addColumn("installation_id", "integer")
    .addColumn("repository", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("received_at", "text", (c) => c.notNull())
    .addColumn("processed_at", "text")
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["deliveries", "runs", "tasks", "findings", "repositories"]) {
    await db.schema.dropTable(table).execute();
  }
}
