import type { Kysely } from "kysely";

/**
 * Issue 9 (close the loop): the dashboard issue of each repository and what was last written to
 * it (so an unchanged body costs no API call and edits are debounced), and on each finding the
 * outcome of its last task and the content hash that outcome was for (autopilot does not pick a
 * failed or no-change finding again until its content changes) and who dismissed it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const repositories: [string, "integer" | "text"][] = [
    ["dashboard_issue_number", "integer"],
    /** sha256 of the body last written; equal means skip the edit. */
    ["dashboard_hash", "text"],
    /** ISO time of the last dashboard write (create or edit), for the debounce. */
    ["dashboard_synced_at", "text"],
  ];
  for (const [name, type] of repositories) await db.schema.alterTable("repositories").addColumn(name, type).execute();
  const findings: [string, "text"][] = [
    /** `merged`, `closed`, `failed`, `no_changes`, `cancelled` of the finding's last task. */
    ["last_task_outcome", "text"],
    /** The finding's content hash when that task was asked for. */
    ["last_task_hash", "text"],
    ["dismissed_by", "text"],
  ];
  for (const [name, type] of findings) await db.schema.alterTable("findings").addColumn(name, type).execute();
}

/** Drops the columns again (SQLite 3.35+ and PostgreSQL both drop columns). */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const name of ["last_task_outcome", "last_task_hash", "dismissed_by"]) {
    await db.schema.alterTable("findings").dropColumn(name).execute();
  }
  for (const name of ["dashboard_issue_number", "dashboard_hash", "dashboard_synced_at"]) {
    await db.schema.alterTable("repositories").dropColumn(name).execute();
  }
}
