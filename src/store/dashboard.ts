import { type Db, now } from "./db.js";
import type { FindingRow, Repository } from "./schema.js";

/** What was last written to a repository's dashboard issue. */
export interface DashboardRecord {
  issueNumber: number | null;
  /** sha256 of the body last written; `"off"` after a sync found the dashboard switched off. */
  hash: string | null;
  /** ISO time of the last write. */
  syncedAt: string | null;
}

/** The dashboard record of a stored repository row. */
export function dashboardRecord(repository: Repository): DashboardRecord {
  return { issueNumber: repository.dashboard_issue_number, hash: repository.dashboard_hash, syncedAt: repository.dashboard_synced_at };
}

/** Records the dashboard issue and what was written to it (only the fields given). */
export async function recordDashboard(db: Db, repositoryId: number, record: Partial<DashboardRecord>): Promise<void> {
  await db
    .updateTable("repositories")
    .set({
      ...(record.issueNumber !== undefined && { dashboard_issue_number: record.issueNumber }),
      ...(record.hash !== undefined && { dashboard_hash: record.hash }),
      ...(record.syncedAt !== undefined && { dashboard_synced_at: record.syncedAt }),
    })
    .where("id", "=", repositoryId)
    .execute();
}

/** The repository whose dashboard is this issue, if any. */
export async function repositoryOfDashboard(db: Db, fullName: string, issueNumber: number): Promise<Repository | undefined> {
  return db
    .selectFrom("repositories")
    .selectAll()
    .where("full_name", "=", fullName)
    .where("dashboard_issue_number", "=", issueNumber)
    .executeTakeFirst();
}

/**
 * Dismisses findings of one repository for good: they leave the backlog and never come back, even
 * when a scan sees them again (`syncFindings` leaves `dismissed_at` alone). Returns how many changed.
 */
export async function dismissFindings(db: Db, repositoryId: number, fingerprints: readonly string[], by: string): Promise<number> {
  let changed = 0;
  for (let i = 0; i < fingerprints.length; i += 500) {
    const result = await db
      .updateTable("findings")
      .set({ dismissed_at: now(), dismissed_by: by })
      .where("repository_id", "=", repositoryId)
      .where("fingerprint", "in", fingerprints.slice(i, i + 500))
      .where("dismissed_at", "is", null)
      .executeTakeFirst();
    changed += Number(result.numUpdatedRows);
  }
  return changed;
}

/** Records how a finding's task ended and the finding's content hash it was for (autopilot's memory). */
export async function recordFindingOutcome(db: Db, findingId: number, outcome: string, hash: string): Promise<void> {
  await db.updateTable("findings").set({ last_task_outcome: outcome, last_task_hash: hash }).where("id", "=", findingId).execute();
}

/**
 * Records a task started on issue `issueNumber` of a repository on every finding of that issue (an
 * `issue` and a `stale_issue` finding may name the same one): `outcome`, and each finding's content
 * hash as `hashOf` gives it (the caller passes the prioritizer's `contentHash`; the store does not
 * hash). This is autopilot's memory for tasks that have no finding, such as a person's `/agent
 * fix` on the issue: autopilot does not start that issue's finding again after the task ended
 * without a merge until the hash changes (src/scheduler/autopilot.ts). Writes only the store, so it
 * may run inside the transaction that creates the task.
 * @returns how many findings were updated (0 when the issue is in no finding).
 */
export async function recordIssueOutcome(
  db: Db,
  repositoryId: number,
  issueNumber: number,
  outcome: string,
  hashOf: (finding: Pick<FindingRow, "kind" | "title" | "body" | "signals">) => string,
): Promise<number> {
  const findings = await db
    .selectFrom("findings")
    .select(["id", "kind", "title", "body", "signals"])
    .where("repository_id", "=", repositoryId)
    .where("issue_number", "=", issueNumber)
    .execute();
  for (const finding of findings) await recordFindingOutcome(db, finding.id, outcome, hashOf(finding));
  return findings.length;
}
