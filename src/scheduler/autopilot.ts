import cron, { type ScheduledTask } from "node-cron";
import { lastValidConfig } from "../config/load.js";
import type { RepoConfig } from "../config/schema.js";
import { type RequestDeps, requestTask } from "../executor/requests.js";
import { contentHash } from "../prioritizer/content-hash.js";
import type { BacklogItem, Ranked } from "../prioritizer/index.js";
import { recordAudit } from "../store/audit.js";
import { recordFindingOutcome } from "../store/dashboard.js";
import type { Db } from "../store/db.js";
import { listRepositories } from "../store/repositories.js";
import type { Repository, Task } from "../store/schema.js";
import type { Logger } from "../util/logger.js";
import { rankRepositoryBacklog } from "./ranked-backlog.js";

/** Ends after which a finding is not picked again until its content changes (a merged fix resolves it at the next scan). */
const NOT_AGAIN = new Set(["failed", "no_changes", "closed", "cancelled", "merged"]);

/** What autopilot knows of a finding's latest task. */
export interface LastTask {
  state: Task["state"];
}

/**
 * The latest task (highest id) of each finding in `findings`: its own (`finding_id`), or, for a
 * finding about an issue, any task on that issue, whichever is newer. A person's `/agent fix` on
 * the issue has no finding, yet a pull request of it that a maintainer closed unmerged is the same
 * "no" as one of autopilot's own; its content hash is recorded on the issue's findings when it is
 * queued (`requestTask`, `recordIssueOutcome`), so `pickForAutopilot`'s rule applies to it
 * unchanged. Pure.
 * @param tasks the repository's tasks, in any order.
 * @returns finding id → its latest task; findings with none are absent.
 */
export function latestTasks(
  tasks: readonly Pick<Task, "id" | "finding_id" | "issue_number" | "state">[],
  findings: readonly Pick<BacklogItem, "id" | "issue_number">[],
): Map<number, LastTask> {
  type Latest = { id: number; state: Task["state"] };
  const newer = (a: Latest | undefined, b: Latest) => (a === undefined || b.id > a.id ? b : a);
  const byFinding = new Map<number, Latest>();
  const byIssue = new Map<number, Latest>();
  for (const t of tasks) {
    if (t.finding_id !== null) byFinding.set(t.finding_id, newer(byFinding.get(t.finding_id), t));
    if (t.issue_number !== null) byIssue.set(t.issue_number, newer(byIssue.get(t.issue_number), t));
  }
  const last = new Map<number, LastTask>();
  for (const f of findings) {
    const own = byFinding.get(f.id);
    const issue = f.issue_number !== null ? byIssue.get(f.issue_number) : undefined;
    const latest = issue ? newer(own, issue) : own;
    if (latest) last.set(f.id, { state: latest.state });
  }
  return last;
}

/** One finding autopilot chose, and why, in words for the dashboard and the log. */
export interface AutopilotPick {
  row: Ranked<BacklogItem>;
  reason: string;
}

/**
 * Chooses the findings autopilot starts now: best ranked first, of `autopilot.kinds`, scoring at
 * least `minScore`, with no open task, and not one whose last task failed, changed nothing, was
 * closed unmerged or cancelled while its content (`contentHash`) is the same as then — at most
 * `maxTasksPerDay - startedToday`. `lastTasks` is `latestTasks`: for a finding about an issue, the
 * last task on that issue, whoever asked for it. Pure.
 */
export function pickForAutopilot(
  ranked: readonly Ranked<BacklogItem>[],
  lastTasks: ReadonlyMap<number, LastTask>,
  config: RepoConfig["autopilot"],
  startedToday: number,
): AutopilotPick[] {
  const budget = Math.max(0, config.maxTasksPerDay - startedToday);
  const kinds = new Set<string>(config.kinds);
  const picks: AutopilotPick[] = [];
  for (const row of ranked) {
    if (picks.length >= budget) break;
    if (!kinds.has(row.kind) || row.score < config.minScore) continue;
    const last = lastTasks.get(row.id);
    if (last && (last.state === "queued" || last.state === "running" || last.state === "pr_open")) continue;
    if (last && NOT_AGAIN.has(last.state) && row.last_task_hash === contentHash(row)) continue;
    picks.push({ row, reason: `rank ${row.rank}, score ${row.score} ≥ minScore ${config.minScore}` });
  }
  return picks;
}

/** One `Intl.DateTimeFormat` per time zone that gives a calendar date (`YYYY-MM-DD`, as `en-CA` writes it). */
const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar date of the instant `ms` in `timeZone`, as a sortable number `YYYYMMDD`. */
function localDate(ms: number, timeZone: string): number {
  let format = dateFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    dateFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(ms).map((p) => [p.type, p.value]));
  return Number(`${parts.year}${parts.month}${parts.day}`);
}

/**
 * The first instant of the calendar day that `now` falls in, in the IANA time zone `timeZone`
 * (local midnight; on a day whose midnight a DST change skips, the first instant after the gap).
 * Offsets and DST rules come from the runtime's tz database through `Intl.DateTimeFormat`, so a
 * 23- or 25-hour day is counted right. Found by bisection over the 48 hours before `now` to the
 * second (UTC offsets are whole seconds): about 18 date formats.
 * Autopilot's `maxTasksPerDay` counts from here; the dashboard's "started today" should too.
 * @throws RangeError when `timeZone` is not a time zone the runtime knows (config validates it).
 */
export function startOfLocalDay(now: Date, timeZone: string): Date {
  const nowS = Math.floor(now.getTime() / 1000);
  const today = localDate(nowS * 1000, timeZone);
  // lo is on an earlier local day (no day lasts 48 hours), hi on this one.
  let lo = nowS - 48 * 3600;
  let hi = nowS;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDate(mid * 1000, timeZone) < today) lo = mid;
    else hi = mid;
  }
  return new Date(hi * 1000);
}

/**
 * One autopilot slot for a repository: ranks its backlog as every surface does
 * (`rankRepositoryBacklog`), picks (see `pickForAutopilot`) and asks
 * the request service for each pick, as trigger `autopilot`, so every limit holds; stops at the
 * first refusal (a limit is full). `maxTasksPerDay` counts autopilot's tasks created since local
 * midnight in the config's `timezone` (`startOfLocalDay`). Does nothing when `autopilot.enabled` is false.
 * @returns the tasks queued.
 */
export async function runAutopilot(
  deps: { db: Db; requests: RequestDeps; log: Logger },
  repository: Repository,
  config: RepoConfig,
  now = new Date(),
): Promise<Task[]> {
  if (!config.autopilot.enabled) return [];
  const { db, log } = deps;
  const [ranked, tasks] = await Promise.all([
    rankRepositoryBacklog(db, repository, config, now),
    db
      .selectFrom("tasks")
      .select(["id", "finding_id", "issue_number", "state", "trigger", "created_at"])
      .where("repository_id", "=", repository.id)
      .orderBy("id")
      .execute(),
  ]);
  const lastTasks = latestTasks(tasks, ranked);
  // "Per day" is the repository's day (`timezone`, the one its schedule runs in), not UTC's.
  const since = startOfLocalDay(now, config.timezone).toISOString();
  const startedToday = tasks.filter((t) => t.trigger === "autopilot" && t.created_at >= since).length;
  const queued: Task[] = [];
  for (const pick of pickForAutopilot(ranked, lastTasks, config.autopilot, startedToday)) {
    const result = await requestTask(deps.requests, {
      repository,
      config,
      findingId: pick.row.id,
      issueNumber: pick.row.issue_number,
      title: pick.row.title,
      requestedBy: "autopilot",
      trigger: "autopilot",
      requestedAt: now.toISOString(),
    });
    if (result.kind === "refused") {
      log.info({ repo: repository.full_name, code: result.refusal.code }, "autopilot held back by a limit");
      break;
    }
    if (result.kind !== "queued") continue;
    await recordFindingOutcome(db, pick.row.id, "queued", contentHash(pick.row));
    // The dashboard says what autopilot started and why (read back by dashboard-state.ts).
    await recordAudit(db, {
      actor: "backlog-bot",
      action: "autopilot.start",
      repository: repository.full_name,
      target: `task:${result.task.id}`,
      outcome: "ok",
      detail: { findingId: pick.row.id, reason: pick.reason },
    });
    log.info({ repo: repository.full_name, taskId: result.task.id, findingId: pick.row.id, why: pick.reason }, "autopilot started a task");
    queued.push(result.task);
  }
  return queued;
}

/** Runs autopilot on each repository's `autopilot.schedule` (in its `timezone`). */
export interface AutopilotSchedules {
  /** Re-reads repositories and configs: schedules added, moved or dropped. */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Cron jobs for autopilot, one per repository with `autopilot.enabled`. Each slot calls `run` with
 * the slot's scheduled time (normally: enqueue an `autopilot` job for that slot, src/scheduler/autopilot-jobs.ts,
 * so the picking itself is durable and deduplicated); a failure is logged and the next slot tries again.
 */
export function autopilotSchedules(deps: {
  db: Db;
  log: Logger;
  run: (repository: Repository, slot: Date) => Promise<unknown>;
}): AutopilotSchedules {
  const jobs = new Map<string, { task: ScheduledTask; key: string }>();
  return {
    async sync() {
      const seen = new Set<string>();
      for (const repository of await listRepositories(deps.db)) {
        const config = lastValidConfig(repository);
        if (!config.autopilot.enabled) continue;
        seen.add(repository.full_name);
        const key = `${config.autopilot.schedule}\0${config.timezone}`;
        if (jobs.get(repository.full_name)?.key === key) continue;
        await jobs.get(repository.full_name)?.task.destroy();
        const task = cron.createTask(
          config.autopilot.schedule,
          (context) =>
            void deps
              .run(repository, context.date)
              .catch((error: unknown) => deps.log.error({ err: error, repo: repository.full_name }, "autopilot slot failed")),
          { timezone: config.timezone, name: `autopilot:${repository.full_name}` },
        );
        await task.start();
        jobs.set(repository.full_name, { task, key });
      }
      for (const [name, job] of jobs) {
        if (seen.has(name)) continue;
        await job.task.destroy();
        jobs.delete(name);
      }
    },
    async stop() {
      for (const job of jobs.values()) await job.task.destroy();
      jobs.clear();
    },
  };
}
