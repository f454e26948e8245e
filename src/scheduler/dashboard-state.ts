import type { RepoConfig } from "../config/schema.js";
import type { DashboardState, DashboardTask } from "../dashboard/index.js";
import { type OutcomeRecord, rankBacklog, type TaskOutcomeKind } from "../prioritizer/index.js";
import type { Db } from "../store/db.js";
import { listOpenFindings } from "../store/findings.js";
import type { Repository, Task } from "../store/schema.js";
import { countRunsSince, countTasksSince, listTasks } from "../store/tasks.js";

const HOUR_MS = 3_600_000;
/** Tasks read for the dashboard: every open one and the most recent ended ones. */
const TASKS_READ = 200;
const OUTCOMES: Record<string, TaskOutcomeKind> = { merged: "merged", closed: "closed", failed: "failed", no_changes: "no_changes" };

/** The repository's past bot tasks on findings, for the ranking's outcome feedback. */
export async function outcomeHistory(db: Db, repositoryId: number): Promise<OutcomeRecord[]> {
  const rows = await db
    .selectFrom("tasks")
    .innerJoin("findings", "findings.id", "tasks.finding_id")
    .select(["findings.kind", "findings.path", "tasks.state"])
    .where("tasks.repository_id", "=", repositoryId)
    .where("tasks.state", "in", Object.keys(OUTCOMES) as Task["state"][])
    .execute();
  return rows.flatMap((r) => {
    const outcome = OUTCOMES[r.state];
    return outcome ? [{ kind: r.kind, path: r.path, outcome }] : [];
  });
}

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
 * Everything the dashboard of `repository` shows, read from the store: the ranked backlog (with
 * outcome feedback and `todo.exclude`), the tasks, the limits in force and the config error.
 * Reads only the store: no GitHub call.
 */
export async function loadDashboardState(db: Db, repository: Repository, config: RepoConfig, now: Date): Promise<DashboardState> {
  const [findings, outcomes, tasks] = await Promise.all([
    listOpenFindings(db, repository.id),
    outcomeHistory(db, repository.id),
    listTasks(db, { repositoryId: repository.id, limit: TASKS_READ }),
  ]);
  // The dashboard issue is the bot's own: never work (it would turn stale when nothing changes for weeks).
  const own = findings.filter((f) => f.issue_number === null || f.issue_number !== repository.dashboard_issue_number);
  const backlog = rankBacklog(own, now, { exclude: config.todo.exclude, outcomes });
  const pulls = tasks.filter((t) => t.state === "pr_open");
  const reasons = tasks.some((t) => t.trigger === "autopilot")
    ? await autopilotReasons(db, repository.full_name)
    : new Map<number, string>();
  const verified = await verifications(
    db,
    pulls.map((t) => t.id),
  );
  const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())).toISOString();
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
