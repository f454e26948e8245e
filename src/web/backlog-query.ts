import { lastValidConfig } from "../config/load.js";
import type { BacklogItem, Ranked } from "../prioritizer/index.js";
import { rankRepositoryBacklog } from "../scheduler/ranked-backlog.js";
import type { Db } from "../store/db.js";
import { getRepositoryById } from "../store/repositories.js";
import type { TaskState } from "../store/schema.js";

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
type RankCache = Map<number, { version: string; at: number; ranked: Ranked<BacklogItem>[] }>;
/** Per store (tests and tools open several in one process). */
const rankCaches = new WeakMap<Db, RankCache>();

/**
 * What the repository's ranking depends on, as one string: an aggregate over its findings (count,
 * newest id, latest sighting, dismissal and resolution), over its ended tasks (outcome feedback),
 * the `.gitattributes` read, and the config and dashboard issue of the repository row.
 */
async function rankingVersion(db: Db, repositoryId: number, config: string | null, dashboardIssue: number | null): Promise<string> {
  const [findings, tasks, attributes] = await Promise.all([
    db
      .selectFrom("findings")
      .select((eb) => [
        eb.fn.countAll<number>().as("n"),
        eb.fn.max("id").as("id"),
        eb.fn.max("last_seen_at").as("seen"),
        eb.fn.max("dismissed_at").as("dismissed"),
        eb.fn.max("resolved_at").as("resolved"),
      ])
      .where("repository_id", "=", repositoryId)
      .executeTakeFirst(),
    db
      .selectFrom("tasks")
      .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.max("updated_at").as("updated")])
      .where("repository_id", "=", repositoryId)
      .executeTakeFirst(),
    db.selectFrom("git_attributes").select("read_at").where("repository_id", "=", repositoryId).executeTakeFirst(),
  ]);
  return JSON.stringify([findings ?? null, tasks ?? null, attributes?.read_at ?? null, config, dashboardIssue]);
}

/**
 * The repository's ranking (`rankRepositoryBacklog`: the one every surface shows), reused while
 * nothing it depends on changed (`rankingVersion`) and for at most a minute. Ranking 10,000
 * findings costs a full read and sort (bench/web.ts); the version is three aggregate reads, so any
 * scan, dismiss, resolve, task end, config or `.gitattributes` change ranks again.
 */
async function rankedFindings(db: Db, repositoryId: number, now: Date): Promise<Ranked<BacklogItem>[]> {
  const repository = await getRepositoryById(db, repositoryId);
  if (!repository) return [];
  const version = await rankingVersion(db, repositoryId, repository.config, repository.dashboard_issue_number);
  let rankCache = rankCaches.get(db);
  if (!rankCache) {
    rankCache = new Map();
    rankCaches.set(db, rankCache);
  }
  const hit = rankCache.get(repositoryId);
  const age = hit ? now.getTime() - hit.at : -1;
  if (hit && hit.version === version && age >= 0 && age < RANK_TTL_MS) return hit.ranked;
  const ranked = await rankRepositoryBacklog(db, repository, lastValidConfig(repository), now);
  if (rankCache.size >= 100) rankCache.clear();
  rankCache.set(repositoryId, { version, at: now.getTime(), ranked });
  return ranked;
}

/**
 * The ranked backlog of one repository, a page of it (`offset`, `limit`), and the row total. With
 * `kind`, only that kind's rows, keeping their ranks in the whole backlog (so a row's rank is the
 * same here, on the dashboard and in the CLI).
 */
export async function backlogPage(
  db: Db,
  repositoryId: number,
  options: { kind?: string; offset: number; limit: number; now: Date },
): Promise<{ items: BacklogRow[]; total: number }> {
  const all = await rankedFindings(db, repositoryId, options.now);
  const ranked = options.kind ? all.filter((r) => r.kind === options.kind) : all;
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

/**
 * Ids of the open findings a backlog row stands for: the row holding `findingId` (its group:
 * same kind and normalised text), so a dismiss covers them all as the prioritizer's groups say.
 * Just `[findingId]` when the finding is not in the backlog.
 */
export async function groupMembers(db: Db, repositoryId: number, findingId: number, now: Date): Promise<number[]> {
  const ranked = await rankedFindings(db, repositoryId, now);
  const finding = await db.selectFrom("findings").select("fingerprint").where("id", "=", findingId).executeTakeFirst();
  const row =
    finding && ranked.find((r) => (r as { group?: { fingerprints?: string[] } }).group?.fingerprints?.includes(finding.fingerprint));
  const fingerprints = (row as { group?: { fingerprints?: string[] } } | undefined)?.group?.fingerprints;
  if (!fingerprints?.length) return [findingId];
  const rows = await db
    .selectFrom("findings")
    .select("id")
    .where("repository_id", "=", repositoryId)
    .where("fingerprint", "in", fingerprints)
    .execute();
  return rows.map((r) => r.id);
}
