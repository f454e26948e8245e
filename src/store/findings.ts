import type { Finding, ScanScope } from "../scanners/types.js";
import { type Db, now } from "./db.js";
import type { FindingRow, Repository } from "./schema.js";

/** Rows per multi-row INSERT: 13 columns x 500 rows stays far below SQLite's 32,766 bound parameters. */
const BATCH = 500;

/** Counts from one `syncFindings`. */
export interface SyncSummary {
  added: number;
  seenAgain: number;
  resolved: number;
}

/**
 * Stores a scan's findings in one transaction: new fingerprints are inserted, known ones get
 * `last_seen_at` and their current location/signals (and are re-opened if they had been resolved),
 * and unresolved findings inside `scope` that the scan did not report are marked resolved (never deleted).
 */
export async function syncFindings(db: Db, repositoryId: number, findings: Finding[], scope: ScanScope): Promise<SyncSummary> {
  const at = now();
  return db.transaction().execute(async (trx) => {
    const known = new Set(
      (await trx.selectFrom("findings").select("fingerprint").where("repository_id", "=", repositoryId).execute()).map(
        (r) => r.fingerprint,
      ),
    );
    const seen = new Set<string>();
    const unique = findings.filter((f) => !seen.has(f.fingerprint) && seen.add(f.fingerprint));
    for (let i = 0; i < unique.length; i += BATCH) {
      const values = unique.slice(i, i + BATCH).map((f) => ({
        repository_id: repositoryId,
        fingerprint: f.fingerprint,
        kind: f.kind,
        title: f.title,
        body: f.body ?? null,
        path: f.path ?? null,
        line: f.line ?? null,
        url: f.url ?? null,
        issue_number: f.issueNumber ?? null,
        signals: JSON.stringify(f.signals),
        first_seen_at: at,
        last_seen_at: at,
      }));
      await trx
        .insertInto("findings")
        .values(values)
        .onConflict((oc) =>
          oc.columns(["repository_id", "fingerprint"]).doUpdateSet((eb) => ({
            kind: eb.ref("excluded.kind"),
            title: eb.ref("excluded.title"),
            body: eb.ref("excluded.body"),
            path: eb.ref("excluded.path"),
            line: eb.ref("excluded.line"),
            url: eb.ref("excluded.url"),
            issue_number: eb.ref("excluded.issue_number"),
            signals: eb.ref("excluded.signals"),
            last_seen_at: eb.ref("excluded.last_seen_at"),
            resolved_at: null,
          })),
        )
        .execute();
    }

    const pathSet = scope.paths ? new Set(scope.paths) : undefined;
    // No kinds in scope: nothing can vanish. (`in ()` is a syntax error on PostgreSQL; SQLite accepts it.)
    const open =
      scope.kinds.length === 0
        ? []
        : await trx
            .selectFrom("findings")
            .select(["id", "fingerprint", "path"])
            .where("repository_id", "=", repositoryId)
            .where("kind", "in", scope.kinds)
            .where("resolved_at", "is", null)
            .execute();
    const vanished = open
      .filter((r) => !seen.has(r.fingerprint) && (!pathSet || (r.path !== null && pathSet.has(r.path))))
      .map((r) => r.id);
    for (let i = 0; i < vanished.length; i += BATCH) {
      await trx
        .updateTable("findings")
        .set({ resolved_at: at })
        .where("id", "in", vanished.slice(i, i + BATCH))
        .execute();
    }
    const added = unique.filter((f) => !known.has(f.fingerprint)).length;
    return { added, seenAgain: unique.length - added, resolved: vanished.length };
  });
}

/**
 * The findings that are work: all but each repository's dashboard issue, which is the bot's own
 * and never work (it would turn stale when nothing changes for weeks). Every surface ranks these.
 */
export function withoutDashboardIssues(
  findings: readonly FindingRow[],
  repositories: readonly Pick<Repository, "id" | "dashboard_issue_number">[],
): FindingRow[] {
  const dashboards = new Map(repositories.flatMap((r) => (r.dashboard_issue_number === null ? [] : [[r.id, r.dashboard_issue_number]])));
  if (dashboards.size === 0) return [...findings];
  return findings.filter((f) => f.issue_number === null || dashboards.get(f.repository_id) !== f.issue_number);
}

/** Unresolved, undismissed findings, of one repository or of all. */
export async function listOpenFindings(db: Db, repositoryId?: number): Promise<FindingRow[]> {
  let query = db.selectFrom("findings").selectAll().where("resolved_at", "is", null).where("dismissed_at", "is", null);
  if (repositoryId !== undefined) query = query.where("repository_id", "=", repositoryId);
  return query.orderBy("id").execute();
}

export async function getFinding(db: Db, id: number): Promise<FindingRow | undefined> {
  return db.selectFrom("findings").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Marks a finding dismissed by a maintainer; it leaves the backlog but is kept. */
export async function dismissFinding(db: Db, id: number): Promise<void> {
  await db.updateTable("findings").set({ dismissed_at: now() }).where("id", "=", id).execute();
}
