import type { RepoConfig } from "../config/schema.js";
import type { DashboardState, DashboardTask } from "../dashboard/index.js";
import type { Db } from "../store/db.js";
import { listOpenFindings } from "../store/findings.js";
import type { Repository, Task } from "../store/schema.js";
import { countRunsSince, countTasksSince, listTasks } from "../store/tasks.js";
import { startOfLocalDay } from "./autopilot.js";
import { rankRepositoryBacklog } from "./ranked-backlog.js";

/** Moved to ranked-backlog.ts with the rest of the ranking inputs; re-exported for existing importers. */
export { outcomeHistory } from "./ranked-backlog.js";

const HOUR_MS = 3_600_000;
/** Tasks read for the dashboard: every open one and the most recent ended ones. */
const TASKS_READ = 200;
function toDashboardTask(task: Task, verification: string | undefined, note: string | undefined): DashboardTask {
  return {
    id: task.id,
    findingId: task.finding_id,
    issueNumber: task.issue_number,
    title: task.title,
    state: task.state,
    agent: task.agent,
    prNumber: task.pr_number,
    prUrl: task.pr_url,
    trigger: task.trigger,
    requestedBy: task.requested_by,
    error: task.error,
    createdAt: task.created_at,
    updatedAt: task.updated_at,
    verification: verification ?? null,
    note: note ?? null,
  };
}

/** Why autopilot started each of its tasks (its `autopilot.start` audit rows), by task id. */
async function autopilotReasons(db: Db, repository: string): Promise<Map<number, string>> {
  const rows = await db
    .selectFrom("audit")
    .select(["target", "detail"])
    .where("action", "=", "autopilot.start")
    .where("repository", "=", repository)
    .orderBy("id", "desc")
    .limit(200)
    .execute();
  const reasons = new Map<number, string>();
  for (const row of rows) {
    const id = Number(row.target?.replace(/^task:/, ""));
    try {
      const reason = (JSON.parse(row.detail ?? "{}") as { reason?: unknown }).reason;
      if (Number.isSafeInteger(id) && typeof reason === "string" && !reasons.has(id)) reasons.set(id, reason);
    } catch {
      // an unreadable row explains nothing
    }
  }
  return reasons;
}

/** Latest run verification line per task (`runs.verification`), for the pull request rows. */
async function verifications(db: Db, taskIds: number[]): Promise<Map<number, string>> {
  if (taskIds.length === 0) return new Map();
  const runs = await db
    .selectFrom("runs")
    .select(["task_id", "verification", "id"])
    .where("task_id", "in", taskIds)
    .where("verification", "is not", null)
    .orderBy("id", "asc")
    .execute();
  return new Map(runs.map((r) => [r.task_id, `verification: ${r.verification}`]));
}

/**
 * Everything the dashboard of `repository` shows, read from the store: the ranked backlog
 * (`rankRepositoryBacklog`), the tasks, the limits in force and the config error.
 * Reads only the store: no GitHub call.
 */
export async function loadDashboardState(db: Db, repository: Repository, config: RepoConfig, now: Date): Promise<DashboardState> {
  const [findings, tasks] = await Promise.all([
    listOpenFindings(db, repository.id),
    listTasks(db, { repositoryId: repository.id, limit: TASKS_READ }),
  ]);
  // The one ranking every surface shows (without the dashboard issue itself).
  const backlog = await rankRepositoryBacklog(db, repository, config, now, findings);
  const pulls = tasks.filter((t) => t.state === "pr_open");
  const reasons = tasks.some((t) => t.trigger === "autopilot")
    ? await autopilotReasons(db, repository.full_name)
    : new Map<number, string>();
  const verified = await verifications(
    db,
    pulls.map((t) => t.id),
  );
  // Autopilot's day, as its maxTasksPerDay counts it: from local midnight in the config's time zone.
  const dayStart = startOfLocalDay(now, config.timezone).toISOString();
  const lastHour = await countTasksSince(db, repository.id, new Date(now.getTime() - HOUR_MS).toISOString());
  const runsToday = await countRunsSince(db, repository.id, new Date(now.getTime() - 24 * HOUR_MS).toISOString());
  const open = tasks.filter((t) => t.state === "queued" || t.state === "running" || t.state === "pr_open").length;
  const full =
    (config.prConcurrentLimit > 0 && open >= config.prConcurrentLimit) ||
    (config.prHourlyLimit > 0 && lastHour >= config.prHourlyLimit) ||
    (config.dailyRunLimit > 0 && runsToday >= config.dailyRunLimit);
  const lastScanAt = findings.reduce<string | null>((max, f) => (max === null || f.last_seen_at > max ? f.last_seen_at : max), null);
  return {
    repo: repository.full_name,
    ref: repository.default_branch,
    backlog,
    limit: config.dashboardLimit,
    tasks: tasks.map((t) => toDashboardTask(t, verified.get(t.id), reasons.get(t.id))),
    limits: {
      openPullRequests: pulls.length,
      prConcurrentLimit: config.prConcurrentLimit,
      pullRequestsLastHour: lastHour,
      prHourlyLimit: config.prHourlyLimit,
      runsToday,
      maxRunsPerDay: config.dailyRunLimit,
      heldBack: full ? tasks.filter((t) => t.state === "queued").length : 0,
    },
    configError: repository.config_error,
    autopilot: {
      enabled: config.autopilot.enabled,
      schedule: config.autopilot.schedule,
      maxTasksPerDay: config.autopilot.maxTasksPerDay,
      startedToday: tasks.filter((t) => t.trigger === "autopilot" && t.created_at >= dayStart).length,
    },
    lastScanAt,
    now,
  };
}
