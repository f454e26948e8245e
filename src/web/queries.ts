import { rankBacklog } from "../prioritizer/index.js";
import type { Db } from "../store/db.js";
import { listOpenFindings } from "../store/findings.js";
import type { FindingRow, Repository, Run, Task, TaskState } from "../store/schema.js";

/**
 * The read model of the API, the pages and the CLI: plain queries over the store, each limited to
 * the repositories a viewer may read (`ids` from `readableIds`; `"all"` for the operator).
 */
export type RepoScope = number[] | "all";

/** Ids of the stored repositories among `readable` full names. */
export async function readableIds(db: Db, readable: Set<string> | "all"): Promise<RepoScope> {
  if (readable === "all") return "all";
  if (readable.size === 0) return [];
  const rows = await db
    .selectFrom("repositories")
    .select("id")
    .where("full_name", "in", [...readable])
    .execute();
  return rows.map((r) => r.id);
}

const inScope = (scope: RepoScope, id: number): boolean => scope === "all" || scope.includes(id);

/** A repository with its open work counted. */
export interface RepositorySummary {
  id: number;
  fullName: string;
  defaultBranch: string;
  installationId: number | null;
  configError: string | null;
  openFindings: number;
  openTasks: number;
}

export async function listRepositorySummaries(db: Db, scope: RepoScope): Promise<RepositorySummary[]> {
  if (scope !== "all" && scope.length === 0) return [];
  let q = db.selectFrom("repositories").selectAll().orderBy("full_name");
  if (scope !== "all") q = q.where("id", "in", scope);
  const repos = await q.execute();
  const findings = await db
    .selectFrom("findings")
    .select(["repository_id", db.fn.countAll<number>().as("n")])
    .where("resolved_at", "is", null)
    .where("dismissed_at", "is", null)
    .groupBy("repository_id")
    .execute();
  const tasks = await db
    .selectFrom("tasks")
    .select(["repository_id", db.fn.countAll<number>().as("n")])
    .where("state", "in", ["queued", "running", "pr_open"])
    .groupBy("repository_id")
    .execute();
  const f = new Map(findings.map((r) => [r.repository_id, Number(r.n)]));
  const t = new Map(tasks.map((r) => [r.repository_id, Number(r.n)]));
  return repos.map((r) => ({
    id: r.id,
    fullName: r.full_name,
    defaultBranch: r.default_branch,
    installationId: r.installation_id == null ? null : Number(r.installation_id),
    configError: r.config_error,
    openFindings: f.get(r.id) ?? 0,
    openTasks: t.get(r.id) ?? 0,
  }));
}

export async function findRepository(db: Db, fullName: string, scope: RepoScope): Promise<Repository | undefined> {
  const repo = await db.selectFrom("repositories").selectAll().where("full_name", "=", fullName).executeTakeFirst();
  return repo && inScope(scope, repo.id) ? repo : undefined;
}

/** One backlog row as the API and pages show it. */
export interface BacklogRow {
  rank: number;
  score: number;
  findingId: number;
  kind: string;
  title: string;
  path: string | null;
  line: number | null;
  url: string | null;
  issueNumber: number | null;
  firstSeenAt: string;
  breakdown: Array<{ signal: string; points: number; reason: string }>;
  group: { count: number; locations: Array<{ findingId: number; path: string | null; line: number | null; issueNumber: number | null }> };
  /** The latest task of the finding, if any. */
  task: { id: number; state: TaskState } | null;
}

/** How long (ms) a ranking is reused while the findings are unchanged: scores age by the day, so a minute is exact enough. */
const RANK_TTL_MS = 60_000;
type RankCache = Map<string, { version: string; at: number; ranked: ReturnType<typeof rankBacklog> }>;
/** Per store (tests and tools open several in one process). */
const rankCaches = new WeakMap<Db, RankCache>();

/**
 * The repository's ranking, reused while its findings are unchanged. Ranking 10,000 findings
 * costs a full read and sort (bench/web.ts); the version is one aggregate query over the findings
 * (count, newest id, latest sighting, dismissal and resolution), so any scan, dismiss or resolve
 * ranks again, as does a minute passing.
 */
async function rankedFindings(db: Db, repositoryId: number, kind: string | undefined, now: Date) {
  const v = await db
    .selectFrom("findings")
    .select((eb) => [
      eb.fn.countAll<number>().as("n"),
      eb.fn.max("id").as("id"),
      eb.fn.max("last_seen_at").as("seen"),
      eb.fn.max("dismissed_at").as("dismissed"),
      eb.fn.max("resolved_at").as("resolved"),
    ])
    .where("repository_id", "=", repositoryId)
    .executeTakeFirst();
  const version = JSON.stringify(v ?? null);
  const key = `${repositoryId}\0${kind ?? ""}`;
  let rankCache = rankCaches.get(db);
  if (!rankCache) {
    rankCache = new Map();
    rankCaches.set(db, rankCache);
  }
  const hit = rankCache.get(key);
  const age = hit ? now.getTime() - hit.at : -1;
  if (hit && hit.version === version && age >= 0 && age < RANK_TTL_MS) return hit.ranked;
  let rows: FindingRow[] = await listOpenFindings(db, repositoryId);
  if (kind) rows = rows.filter((r) => r.kind === kind);
  const ranked = rankBacklog(rows, now);
  if (rankCache.size >= 100) rankCache.clear();
  rankCache.set(key, { version, at: now.getTime(), ranked });
  return ranked;
}

/** The ranked backlog of one repository, a page of it (`offset`, `limit`), and the row total. */
export async function backlogPage(
  db: Db,
  repositoryId: number,
  options: { kind?: string; offset: number; limit: number; now: Date },
): Promise<{ items: BacklogRow[]; total: number }> {
  const ranked = await rankedFindings(db, repositoryId, options.kind, options.now);
  const page = ranked.slice(options.offset, options.offset + options.limit);
  const ids = page.map((r) => r.id);
  const tasks = ids.length
    ? await db.selectFrom("tasks").select(["id", "finding_id", "state"]).where("finding_id", "in", ids).orderBy("id", "desc").execute()
    : [];
  const latest = new Map<number, { id: number; state: TaskState }>();
  for (const t of tasks) if (t.finding_id != null && !latest.has(t.finding_id)) latest.set(t.finding_id, { id: t.id, state: t.state });
  const items = page.map((r): BacklogRow => {
    const group = (
      r as {
        group?: {
          count: number;
          locations: Array<{ id: number; path?: string | null; line?: number | null; issueNumber?: number | null }>;
        };
      }
    ).group;
    return {
      rank: r.rank,
      score: Math.round(r.score * 100) / 100,
      findingId: r.id,
      kind: r.kind,
      title: r.title,
      path: r.path ?? null,
      line: r.line ?? null,
      url: r.url,
      issueNumber: r.issue_number,
      firstSeenAt: r.first_seen_at,
      breakdown: r.breakdown.map((p) => ({ signal: p.signal, points: Math.round(p.points * 100) / 100, reason: p.reason })),
      group: {
        count: group?.count ?? 1,
        locations: (group?.locations ?? [r]).map((l) => ({
          findingId: l.id,
          path: l.path ?? null,
          line: l.line ?? null,
          issueNumber: l.issueNumber ?? null,
        })),
      },
      task: latest.get(r.id) ?? null,
    };
  });
  return { items, total: ranked.length };
}

export type FindingState = "open" | "dismissed" | "resolved" | "all";

/** Findings of a repository by id, newest first, keyset-paged by id. */
export async function listFindingsPage(
  db: Db,
  repositoryId: number,
  options: { state: FindingState; kind?: string; before?: number; limit: number },
): Promise<FindingRow[]> {
  let q = db
    .selectFrom("findings")
    .selectAll()
    .where("repository_id", "=", repositoryId)
    .orderBy("id", "desc")
    .limit(options.limit + 1);
  if (options.state === "open") q = q.where("resolved_at", "is", null).where("dismissed_at", "is", null);
  if (options.state === "dismissed") q = q.where("dismissed_at", "is not", null);
  if (options.state === "resolved") q = q.where("resolved_at", "is not", null);
  if (options.kind) q = q.where("kind", "=", options.kind as FindingRow["kind"]);
  if (options.before !== undefined) q = q.where("id", "<", options.before);
  return q.execute();
}

export async function getFindingInScope(db: Db, id: number, scope: RepoScope): Promise<(FindingRow & { repository: string }) | undefined> {
  const row = await db
    .selectFrom("findings")
    .innerJoin("repositories", "repositories.id", "findings.repository_id")
    .selectAll("findings")
    .select("repositories.full_name as repository")
    .where("findings.id", "=", id)
    .executeTakeFirst();
  return row && inScope(scope, row.repository_id) ? row : undefined;
}

export type TaskWithRepo = Task & { repository: string };

/** Tasks newest first, keyset-paged by id, optionally one repository and one state. */
export async function listTasksPage(
  db: Db,
  scope: RepoScope,
  options: { repositoryId?: number; state?: TaskState; before?: number; limit: number },
): Promise<TaskWithRepo[]> {
  if (scope !== "all" && scope.length === 0) return [];
  let q = db
    .selectFrom("tasks")
    .innerJoin("repositories", "repositories.id", "tasks.repository_id")
    .selectAll("tasks")
    .select("repositories.full_name as repository")
    .orderBy("tasks.id", "desc")
    .limit(options.limit + 1);
  if (scope !== "all") q = q.where("tasks.repository_id", "in", scope);
  if (options.repositoryId !== undefined) q = q.where("tasks.repository_id", "=", options.repositoryId);
  if (options.state) q = q.where("tasks.state", "=", options.state);
  if (options.before !== undefined) q = q.where("tasks.id", "<", options.before);
  return q.execute();
}

export async function getTaskInScope(db: Db, id: number, scope: RepoScope): Promise<{ task: TaskWithRepo; runs: Run[] } | undefined> {
  const task = await db
    .selectFrom("tasks")
    .innerJoin("repositories", "repositories.id", "tasks.repository_id")
    .selectAll("tasks")
    .select("repositories.full_name as repository")
    .where("tasks.id", "=", id)
    .executeTakeFirst();
  if (!task || !inScope(scope, task.repository_id)) return undefined;
  const runs = await db.selectFrom("runs").selectAll().where("task_id", "=", id).orderBy("id").execute();
  return { task, runs };
}

export async function getRunInScope(db: Db, id: number, scope: RepoScope): Promise<{ run: Run; task: TaskWithRepo } | undefined> {
  const run = await db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
  if (!run) return undefined;
  const found = await getTaskInScope(db, run.task_id, scope);
  return found ? { run, task: found.task } : undefined;
}
