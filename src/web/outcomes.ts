import type { Db } from "../store/db.js";
import type { RepoScope } from "./queries.js";

/** One ISO week (starting Monday, UTC) of pull-request outcomes. */
export interface WeekOutcome {
  /** Monday of the week, `YYYY-MM-DD`. */
  week: string;
  opened: number;
  merged: number;
  closed: number;
  failed: number;
}

/**
 * DORA-style outcome figures over the last `weeks` weeks, in the spirit of
 * https://dora.dev/guides/dora-metrics-four-keys/ adapted to a bot: throughput (PRs opened,
 * merged and closed per week), lead time from request to merge, a failure rate (tasks that ended
 * `failed`, or whose PR was closed unmerged, over all ended tasks) and cost per merged PR.
 */
export interface Outcomes {
  weeks: WeekOutcome[];
  /** Median and 90th percentile (s) of request → merge; null without merges. */
  leadTimeSeconds: { median: number | null; p90: number | null };
  /** 0..1; null when no task has ended. */
  failureRate: number | null;
  /** merged / (merged + closed); null without ended PRs. */
  mergeRate: number | null;
  /** Sum of run costs (US dollars) of all tasks in the window divided by merged PRs; null without merges. */
  costPerMergedPr: number | null;
  totalCostUsd: number;
}

const DAY_MS = 86_400_000;

/** Monday 00:00 UTC of the week holding `at`, as `YYYY-MM-DD`. */
export function weekOf(at: Date): string {
  const day = (at.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()) - day * DAY_MS).toISOString().slice(0, 10);
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? null;
}

/** Computes `Outcomes` for the repositories in `scope`, over `weeks` weeks ending at `now`. */
export async function computeOutcomes(db: Db, scope: RepoScope, weeks: number, now: Date): Promise<Outcomes> {
  const since = new Date(Date.parse(weekOf(now)) - (weeks - 1) * 7 * DAY_MS).toISOString();
  const empty: Outcomes = {
    weeks: [],
    leadTimeSeconds: { median: null, p90: null },
    failureRate: null,
    mergeRate: null,
    costPerMergedPr: null,
    totalCostUsd: 0,
  };
  const buckets = new Map<string, WeekOutcome>();
  for (let i = 0; i < weeks; i++) {
    const week = new Date(Date.parse(since) + i * 7 * DAY_MS).toISOString().slice(0, 10);
    buckets.set(week, { week, opened: 0, merged: 0, closed: 0, failed: 0 });
  }
  empty.weeks = [...buckets.values()];
  if (scope !== "all" && scope.length === 0) return empty;
  let q = db
    .selectFrom("tasks")
    .select(["id", "state", "pr_number", "created_at", "updated_at", "requested_at", "ended_at"])
    .where((eb) => eb.or([eb("created_at", ">=", since), eb("updated_at", ">=", since)]));
  if (scope !== "all") q = q.where("repository_id", "in", scope);
  const tasks = await q.execute();
  const ids = tasks.map((t) => t.id);
  const costs = new Map<number, number>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom("runs")
      .select(["task_id", db.fn.sum<number>("cost_usd").as("cost")])
      .where("task_id", "in", ids.slice(i, i + 500))
      .groupBy("task_id")
      .execute();
    for (const r of rows) costs.set(r.task_id, Number(r.cost ?? 0));
  }
  const lead: number[] = [];
  let merged = 0;
  let closed = 0;
  let failed = 0;
  let ended = 0;
  let totalCost = 0;
  for (const t of tasks) {
    totalCost += costs.get(t.id) ?? 0;
    const endAt = t.ended_at ?? t.updated_at;
    const bucket = (at: string) => buckets.get(weekOf(new Date(at)));
    if (t.pr_number != null && t.created_at >= since) {
      const b = bucket(t.created_at);
      if (b) b.opened++;
    }
    if (["merged", "closed", "failed", "no_changes", "cancelled"].includes(t.state) && endAt >= since) {
      const b = bucket(endAt);
      if (t.state === "merged") {
        merged++;
        if (b) b.merged++;
        lead.push((Date.parse(endAt) - Date.parse(t.requested_at ?? t.created_at)) / 1000);
      } else if (t.state === "closed") {
        closed++;
        if (b) b.closed++;
      } else if (t.state === "failed") {
        failed++;
        if (b) b.failed++;
      }
      if (t.state !== "cancelled") ended++;
    }
  }
  lead.sort((a, b) => a - b);
  return {
    weeks: [...buckets.values()],
    leadTimeSeconds: { median: percentile(lead, 0.5), p90: percentile(lead, 0.9) },
    failureRate: ended ? (failed + closed) / ended : null,
    mergeRate: merged + closed ? merged / (merged + closed) : null,
    costPerMergedPr: merged ? totalCost / merged : null,
    totalCostUsd: totalCost,
  };
}

/** The overview's figures: what runs now and today's spend. */
export async function overviewFigures(
  db: Db,
  scope: RepoScope,
  now: Date,
): Promise<{ running: number; queued: number; todayCostUsd: number }> {
  if (scope !== "all" && scope.length === 0) return { running: 0, queued: 0, todayCostUsd: 0 };
  const today = `${now.toISOString().slice(0, 10)}T00:00:00.000Z`;
  let states = db
    .selectFrom("tasks")
    .select(["state", db.fn.countAll<number>().as("n")])
    .where("state", "in", ["running", "queued"])
    .groupBy("state");
  if (scope !== "all") states = states.where("repository_id", "in", scope);
  let cost = db
    .selectFrom("runs")
    .innerJoin("tasks", "tasks.id", "runs.task_id")
    .select(db.fn.sum<number>("runs.cost_usd").as("cost"))
    .where("runs.started_at", ">=", today);
  if (scope !== "all") cost = cost.where("tasks.repository_id", "in", scope);
  const counts = new Map((await states.execute()).map((r) => [r.state, Number(r.n)]));
  const spent = await cost.executeTakeFirst();
  return { running: counts.get("running") ?? 0, queued: counts.get("queued") ?? 0, todayCostUsd: Number(spent?.cost ?? 0) };
}
