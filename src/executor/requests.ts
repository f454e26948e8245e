import type { RepoConfig } from "../config/schema.js";
import { contentHash } from "../prioritizer/content-hash.js";
import { requestDashboardSync } from "../scheduler/dashboard.js";
import { recordIssueOutcome } from "../store/dashboard.js";
import { type Db, immediate, now } from "../store/db.js";
import { getFinding } from "../store/findings.js";
import { getRepositoryById } from "../store/repositories.js";
import type { Repository, Task, TaskTrigger } from "../store/schema.js";
import { RETRYABLE_STATES } from "../store/task-lifecycle.js";
import {
  countOpenTasks,
  countQueuedTasks,
  countRunsSince,
  countTasksSince,
  createTask,
  findOpenTask,
  getTask,
  latestTaskOfIssue,
  transition,
} from "../store/tasks.js";
import type { Logger } from "../util/logger.js";
import { type AgentRegistry, resolveAgent } from "./agents/registry.js";
import { type BudgetHold, checkOperatorBudget, type OperatorBudget } from "./budget.js";
import { requester } from "./pull-request.js";
import { addReplyJob, oweReply } from "./replies.js";
import type { TaskRunner } from "./task-jobs.js";
import { resolveWorkflow } from "./workflows.js";

/**
 * What the request service needs. Every surface (the `/agent` commands, dashboard ticks, the web
 * buttons and API, the CLI, autopilot) goes through these functions, so the same rules and limits
 * hold everywhere. Permission is the caller's check (each surface knows who is asking).
 */
export interface RequestDeps {
  db: Db;
  agents: AgentRegistry;
  runner: Pick<TaskRunner, "enqueue" | "abortLocal">;
  jobs: Parameters<typeof addReplyJob>[0];
  log: Logger;
  /** The operator's daily budget across repositories; absent: none. */
  budget?: OperatorBudget;
}

/** A request for agent work on an issue or a finding. */
export interface TaskRequest {
  repository: Repository;
  config: RepoConfig;
  issueNumber?: number | null;
  findingId?: number | null;
  title: string;
  instructions?: string | null;
  /** Agent the person named (`--agent`); else the repository's, else the operator's first. */
  agent?: string;
  requestedBy: string;
  trigger: TaskTrigger;
  /** When the person asked (ISO); default now. */
  requestedAt?: string;
  triggerCommentId?: number | null;
  /** A workflow of the repository's config to run instead of its default (`--workflow`). */
  workflow?: string | null;
}

/** Why a request was refused, with a sentence for the person. */
export type Refusal = {
  code: "agent" | "workflow" | "concurrent_limit" | "hourly_limit" | "daily_limit" | BudgetHold["code"];
  message: string;
};

/** What became of a request. */
export type RequestResult = { kind: "queued"; task: Task } | { kind: "exists"; task: Task } | { kind: "refused"; refusal: Refusal };

const HOUR_MS = 3_600_000;

/**
 * Checks the limits of a repository for one more task: `prConcurrentLimit` (queued + running +
 * open PRs), `prHourlyLimit` (tasks started in the last hour, Renovate's meaning) and
 * `dailyRunLimit` (agent runs in the last 24 hours, plus the queued tasks, each a run to come).
 * 0 means no limit, as in Renovate. Call it with the change it allows through `withinLimits`, or
 * two requests can both pass a limit that has room for one.
 * @returns the refusal, or null when the task may start.
 */
export async function checkLimits(db: Db, repository: Repository, config: RepoConfig, budget?: OperatorBudget): Promise<Refusal | null> {
  const open = await countOpenTasks(db, repository.id);
  if (config.prConcurrentLimit > 0 && open >= config.prConcurrentLimit) {
    return {
      code: "concurrent_limit",
      message: `${open} tasks of backlog-bot are already queued, running or waiting for review here (\`prConcurrentLimit\`: ${config.prConcurrentLimit}). Merge or close one, then ask again.`,
    };
  }
  const hourly = await countTasksSince(db, repository.id, new Date(Date.now() - HOUR_MS).toISOString());
  if (config.prHourlyLimit > 0 && hourly >= config.prHourlyLimit) {
    return {
      code: "hourly_limit",
      message: `${hourly} tasks were started here in the last hour (\`prHourlyLimit\`: ${config.prHourlyLimit}). Ask again later.`,
    };
  }
  const runs =
    (await countRunsSince(db, repository.id, new Date(Date.now() - 24 * HOUR_MS).toISOString())) +
    (await countQueuedTasks(db, repository.id));
  if (config.dailyRunLimit > 0 && runs >= config.dailyRunLimit) {
    return {
      code: "daily_limit",
      message: `agents ran ${runs} times here in the last 24 hours (\`dailyRunLimit\`: ${config.dailyRunLimit}). Ask again tomorrow.`,
    };
  }
  const hold = await checkOperatorBudget(db, repository.id, budget);
  return hold ? { code: hold.code, message: hold.message } : null;
}

/**
 * `checkLimits`, then `act` (the insert or the move that starts a task) if they allow it, in one
 * transaction under the store's write lock (`immediate`): five requests at once against
 * `prConcurrentLimit: 1` each saw no open task and all five were queued. `act` must only write
 * the store (on PostgreSQL it may run again after a serialization failure).
 */
export async function withinLimits<T>(
  db: Db,
  repository: Repository,
  config: RepoConfig,
  budget: OperatorBudget | undefined,
  act: (trx: Db) => Promise<T>,
): Promise<{ refusal: Refusal } | { done: T }> {
  return immediate(db, async (trx) => {
    const refusal = await checkLimits(trx, repository, config, budget);
    return refusal ? { refusal } : { done: await act(trx) };
  });
}

/**
 * Starts agent work: answers with the open task when the issue or finding has one (queued,
 * running or with its PR open), refuses when a limit holds it back, else queues a task and its run.
 * A task on an issue records, with its insert, the content hash of the issue's findings
 * (`recordIssueOutcome`), so autopilot does not repeat it on unchanged content once it ended unmerged.
 */
export async function requestTask(deps: RequestDeps, request: TaskRequest): Promise<RequestResult> {
  const { db, log } = deps;
  // A finding of an issue (`issue`, `stale_issue`) is that issue's work, whoever names only the finding
  // (the dashboard's retry box, `backlog-bot fix <finding-id>`): the task holds the issue (one open task
  // per issue) and says its end there, as a tick on the same row does.
  const issueNumber =
    request.issueNumber ?? (request.findingId != null ? ((await getFinding(db, request.findingId))?.issue_number ?? null) : null);
  const open = await findOpenTask(db, request.repository.id, { issueNumber, findingId: request.findingId });
  if (open) return { kind: "exists", task: open };
  const choice = resolveAgent(deps.agents, request.agent, request.config.agent);
  if ("error" in choice) return { kind: "refused", refusal: { code: "agent", message: choice.error } };
  if (request.workflow) {
    const workflow = resolveWorkflow(request.config, request.workflow);
    if ("error" in workflow) return { kind: "refused", refusal: { code: "workflow", message: workflow.error } };
  }
  const result = await withinLimits(db, request.repository, request.config, deps.budget, async (trx) => {
    const made = await createTask(trx, {
      repositoryId: request.repository.id,
      issueNumber,
      findingId: request.findingId ?? null,
      title: request.title,
      instructions: request.instructions ?? null,
      agent: choice.agents[0]?.name ?? null,
      requestedBy: request.requestedBy,
      trigger: request.trigger,
      requestedAt: request.requestedAt ?? now(),
      triggerCommentId: request.triggerCommentId ?? null,
      workflow: request.workflow ?? null,
    });
    // Autopilot's memory of the issue (a person's `/agent fix` has no finding), in the task's own step.
    if (made.created && issueNumber !== null) await recordIssueOutcome(trx, request.repository.id, issueNumber, "queued", contentHash);
    return made;
  });
  if ("refusal" in result) return { kind: "refused", refusal: result.refusal };
  const { task, created } = result.done;
  if (!created) return { kind: "exists", task };
  await deps.runner.enqueue(task.id);
  log.info({ taskId: task.id, agent: task.agent, by: request.requestedBy, trigger: request.trigger }, "task queued");
  // The dashboard's "In progress" shows it (debounced render).
  await requestDashboardSync(deps.jobs, request.repository, request.config);
  return { kind: "queued", task };
}

/** What a cancel or retry came to, with a sentence for the person. */
export interface ActionResult {
  ok: boolean;
  message: string;
  task?: Task;
}

/**
 * Cancels a task: a queued one ends `cancelled` at once (and says so on its issue, and on the
 * dashboard when it re-renders); a running one is
 * asked to stop — its worker kills the agent's whole process tree and ends it `cancelled`; a running
 * follow-up round of its pull request is stopped likewise, its end said on the pull request (the
 * answer names it).
 */
export async function cancelTask(deps: RequestDeps, task: Task, by: string): Promise<ActionResult> {
  if (task.state === "queued") {
    const reply =
      task.issue_number !== null
        ? { body: `Task #${task.id} was cancelled by ${requester(by)}.`, marker: `task-${task.id}:cancelled:${Date.now()}` }
        : null;
    // A reply still owed from before (an earlier attempt's end, GitHub down) stays owed beside this one.
    const pending = (await getTask(deps.db, task.id))?.reply_pending ?? null;
    const moved = await transition(
      deps.db,
      task.id,
      "cancelled",
      { actor: "person", log: deps.log },
      {
        cancel_requested_by: by,
        ...(reply && { reply_pending: oweReply(pending, reply) }),
      },
    );
    if (moved) {
      if (reply) await addReplyJob(deps.jobs, task.id);
      // The dashboard lists the task as queued, and a finding's task (a tick, a button, autopilot)
      // says its end nowhere else: re-render it (debounced), as a worker's end does.
      const repository = await getRepositoryById(deps.db, task.repository_id);
      if (repository) await requestDashboardSync(deps.jobs, repository);
      return { ok: true, message: `Task #${task.id} was cancelled before it started.`, task: moved };
    }
    task = (await getTask(deps.db, task.id)) ?? task;
  }
  if (task.state === "running") {
    await deps.db
      .updateTable("tasks")
      .set({ cancel_requested_by: by, updated_at: now() })
      .where("id", "=", task.id)
      .where("state", "=", "running")
      .execute();
    deps.runner.abortLocal(task.id);
    // A task with its pull request runs only as a follow-up round of it, whose end is said on the PR,
    // not on the issue (or web page) the cancel came from: the answer says where to look.
    const where =
      task.pr_number !== null ? ` It is running a follow-up round of pull request #${task.pr_number}, so its end is said there.` : "";
    return { ok: true, message: `Stopping task #${task.id}: its agent and everything it started are being stopped.${where}`, task };
  }
  return { ok: false, message: `Task #${task.id} is ${task.state}; there is nothing to cancel.`, task };
}

/**
 * `/agent retry` on an issue: a new attempt of its last task that failed, changed nothing or was
 * cancelled, as the person who retries (limits apply as for a new request).
 */
export async function retryIssueTask(
  deps: RequestDeps,
  repository: Repository,
  config: RepoConfig,
  issueNumber: number,
  by: string,
  requestedAt: string = now(),
): Promise<ActionResult> {
  const last = await latestTaskOfIssue(deps.db, repository.id, issueNumber);
  if (!last) return { ok: false, message: "There is no earlier task on this issue to retry; use `/agent fix`." };
  return retryTask(deps, repository, config, last, by, requestedAt);
}

/**
 * A new attempt of `task` if it failed, changed nothing or was cancelled, as `by` (limits apply as
 * for a new request, in the same locked step as the move back to queued): `/agent retry`, the
 * dashboard's retry box, the web page's button. A reply the last attempt still owes on the issue
 * (its end, not yet said while GitHub was down) stays owed and is said once.
 */
export async function retryTask(
  deps: RequestDeps,
  repository: Repository,
  config: RepoConfig,
  task: Task,
  by: string,
  requestedAt: string = now(),
): Promise<ActionResult> {
  if (!RETRYABLE_STATES.includes(task.state)) {
    const where = task.pr_url ? ` (${task.pr_url})` : "";
    return {
      ok: false,
      message: `Task #${task.id} is ${task.state}${where}; only a failed, cancelled or no-change task can be retried.`,
      task,
    };
  }
  const result = await withinLimits(deps.db, repository, config, deps.budget, (trx) =>
    transition(
      trx,
      task.id,
      "queued",
      { actor: "person", log: deps.log },
      {
        requested_by: by,
        requested_at: requestedAt,
        attempts: 0,
        error: null,
        cancel_requested_by: null,
      },
    ),
  );
  if ("refusal" in result) return { ok: false, message: result.refusal.message, task };
  const moved = result.done;
  if (!moved) return { ok: false, message: `Task #${task.id} changed state meanwhile; nothing was retried.`, task };
  // The last attempt's end not yet said (GitHub was down) stays owed: it is said before, or beside,
  // the new attempt's own (the reply job says each once).
  if (moved.reply_pending !== null) await addReplyJob(deps.jobs, moved.id);
  await deps.runner.enqueue(moved.id);
  await requestDashboardSync(deps.jobs, repository, config);
  return { ok: true, message: `Retrying task #${moved.id}.`, task: moved };
}
