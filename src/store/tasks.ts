import { BacklogBotError } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { metrics } from "../util/metrics.js";
import { isDeadLocalOwner, localOwnerPrefix } from "../util/owner.js";
import { type Db, immediate, now } from "./db.js";
import type { Task, TaskState, TaskTrigger, TaskUpdate } from "./schema.js";
import { allowedFrom, FINAL_STATES, OPEN_STATES, type TaskActor } from "./task-lifecycle.js";

export { FINAL_STATES, OPEN_STATES, TASK_MOVES, type TaskActor } from "./task-lifecycle.js";

/** A request for agent work. */
export interface TaskInput {
  repositoryId: number;
  issueNumber?: number | null;
  findingId?: number | null;
  title: string;
  instructions?: string | null;
  agent?: string | null;
  requestedBy: string;
  trigger: TaskTrigger;
  /** When the person asked (ISO); default now. The prompt is built from the issue as it was then. */
  requestedAt?: string;
  triggerCommentId?: number | null;
  /** A workflow named by the person (`--workflow`). */
  workflow?: string | null;
}

/**
 * Creates a queued task, unless the issue (or finding) already has an open one (queued, running
 * or with its PR open), in which case that one is returned with `created: false`. The unique
 * partial indexes of migration 0003 decide, so two racing requests cannot both win.
 */
export async function createTask(db: Db, input: TaskInput): Promise<{ task: Task; created: boolean }> {
  const at = now();
  const inserted = await db
    .insertInto("tasks")
    .values({
      repository_id: input.repositoryId,
      issue_number: input.issueNumber ?? null,
      finding_id: input.findingId ?? null,
      title: input.title,
      instructions: input.instructions ?? null,
      agent: input.agent ?? null,
      state: "queued",
      requested_by: input.requestedBy,
      trigger: input.trigger,
      requested_at: input.requestedAt ?? at,
      trigger_comment_id: input.triggerCommentId ?? null,
      workflow: input.workflow ?? null,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) {
    metrics.tasksCreated.inc({ trigger: input.trigger });
    return { task: inserted, created: true };
  }
  const existing = await findOpenTask(db, input.repositoryId, { issueNumber: input.issueNumber, findingId: input.findingId });
  if (!existing) throw new BacklogBotError("STORE_CONFLICT", "task insert conflicted but no open task holds the issue or finding");
  return { task: existing, created: false };
}

/** The open task (queued, running, pr_open) of an issue or finding, if any. */
export async function findOpenTask(
  db: Db,
  repositoryId: number,
  target: { issueNumber?: number | null; findingId?: number | null },
): Promise<Task | undefined> {
  let query = db.selectFrom("tasks").selectAll().where("repository_id", "=", repositoryId).where("state", "in", OPEN_STATES);
  query =
    target.issueNumber != null
      ? query.where("issue_number", "=", target.issueNumber)
      : query.where("finding_id", "=", target.findingId ?? -1);
  return query.executeTakeFirst();
}

/** The newest task of an issue, whatever its state (for `/agent retry` and `/agent cancel`). */
export async function latestTaskOfIssue(db: Db, repositoryId: number, issueNumber: number): Promise<Task | undefined> {
  return db
    .selectFrom("tasks")
    .selectAll()
    .where("repository_id", "=", repositoryId)
    .where("issue_number", "=", issueNumber)
    .orderBy("id", "desc")
    .executeTakeFirst();
}

export async function getTask(db: Db, id: number): Promise<Task | undefined> {
  return db.selectFrom("tasks").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Who asks for a transition, and (for a worker) the lease it must hold. */
export interface TransitionBy {
  actor: TaskActor;
  /** Required when `actor` is `worker` and the task is `running`: the lease owner. */
  owner?: string;
  log?: Logger;
}

/**
 * Moves a task to `to` if the state machine allows it for `by.actor` from the task's current state
 * (TASK_MOVES), and, for a worker leaving `running`, only while it still holds the lease. Sets
 * `patch` in the same statement, clears the lease when leaving `running`, stamps `ended_at` on
 * final states, and logs the change.
 * @returns the updated task, or undefined when the move was not allowed now (another actor moved it
 *   first, or the worker lost its lease): the caller must then stop acting on the task.
 */
export async function transition(
  db: Db,
  id: number,
  to: TaskState,
  by: TransitionBy,
  patch: Omit<TaskUpdate, "id" | "state"> = {},
): Promise<Task | undefined> {
  const from = allowedFrom(to, by.actor);
  if (from.length === 0) return undefined;
  const at = now();
  const lease = to === "running" ? {} : { lease_owner: null, lease_expires_at: null };
  const ended = FINAL_STATES.includes(to) ? { ended_at: at } : { ended_at: null };
  let query = db
    .updateTable("tasks")
    .set({ ...patch, ...lease, ...ended, state: to, updated_at: at })
    .where("id", "=", id)
    .where("state", "in", from);
  if (by.actor === "worker") {
    // A worker acts on a running task only while the lease is its own (a lost lease ends its say).
    query = query.where((eb) => eb.or([eb("state", "!=", "running"), eb("lease_owner", "=", by.owner ?? "")]));
  }
  const task = await query.returningAll().executeTakeFirst();
  if (task) {
    metrics.taskTransitions.inc({ to });
    by.log?.info({ taskId: id, to, actor: by.actor }, "task state changed");
  }
  return task;
}

/**
 * Claims a task for `owner` with a lease of `leaseMs`: a queued task, an open PR's task (for a
 * follow-up round), or a running one whose worker is gone (its lease expired, or it was a dead
 * process of this host). Counts the attempt. `BEGIN IMMEDIATE` makes read and claim one step.
 * @returns the claimed task, or undefined when it is not claimable (another worker has it, or it ended).
 */
export async function claimTask(
  db: Db,
  id: number,
  owner: string,
  leaseMs: number,
  options: { followUp?: boolean } = {},
): Promise<Task | undefined> {
  return immediate(db, async (trx) => {
    const task = await trx.selectFrom("tasks").selectAll().where("id", "=", id).executeTakeFirst();
    if (!task) return undefined;
    const orphaned =
      task.state === "running" &&
      (task.lease_owner === owner || (task.lease_expires_at ?? "") < now() || isDeadLocalOwner(task.lease_owner, owner));
    const followUp = options.followUp === true && task.state === "pr_open";
    const claimable = task.state === "queued" || orphaned || followUp;
    if (!claimable) return undefined;
    return trx
      .updateTable("tasks")
      .set({
        // A cancel asked of an earlier follow-up ended with it: a new one starts unasked (renewLease refuses while it is set).
        ...(followUp && { cancel_requested_by: null }),
        state: "running",
        attempts: task.attempts + 1,
        lease_owner: owner,
        lease_expires_at: new Date(Date.now() + leaseMs).toISOString(),
        updated_at: now(),
      })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
  });
}

/** Extends a running task's lease; false when the task is no longer this owner's (taken over, cancelled, ended). */
export async function renewLease(db: Db, id: number, owner: string, leaseMs: number): Promise<boolean> {
  const result = await db
    .updateTable("tasks")
    .set({ lease_expires_at: new Date(Date.now() + leaseMs).toISOString() })
    .where("id", "=", id)
    .where("state", "=", "running")
    .where("lease_owner", "=", owner)
    .where("cancel_requested_by", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Running tasks whose worker is gone: lease expired, or held by a dead process of this host. */
export async function orphanedTasks(db: Db, self: string): Promise<Task[]> {
  return db
    .selectFrom("tasks")
    .selectAll()
    .where("state", "=", "running")
    .where((eb) => eb.or([eb("lease_expires_at", "<", now()), eb("lease_owner", "like", `${localOwnerPrefix()}%`)]))
    .execute()
    .then((rows) => rows.filter((t) => (t.lease_expires_at ?? "") < now() || isDeadLocalOwner(t.lease_owner, self)));
}

/**
 * Tasks queued for longer than `olderThanMs` (ms) and never claimed (`attempts` 0): a crash
 * between a task's insert and its run job's add (a worker killed mid-delivery, whose redelivery
 * then finds the task already open) leaves such a task with no job. Tasks of a suspended
 * installation are left out: they wait, and `installation.unsuspend` queues them. Re-adding the job is safe: the
 * jobs port dedupes a pending twin by key, and a claim is owner-checked.
 */
export async function unclaimedQueuedTasks(db: Db, olderThanMs: number): Promise<Task[]> {
  const before = new Date(Date.now() - olderThanMs).toISOString();
  const suspended = db.selectFrom("repositories").select("id").where("suspended_at", "is not", null);
  return db
    .selectFrom("tasks")
    .selectAll()
    .where("state", "=", "queued")
    .where("attempts", "=", 0)
    .where("updated_at", "<", before)
    .where("repository_id", "not in", suspended)
    .execute();
}

/** The task that opened pull request `prNumber` in a repository, if it was ours. */
export async function findTaskByPullRequest(db: Db, repositoryId: number, prNumber: number): Promise<Task | undefined> {
  return db
    .selectFrom("tasks")
    .selectAll()
    .where("repository_id", "=", repositoryId)
    .where("pr_number", "=", prNumber)
    .orderBy("id", "desc")
    .executeTakeFirst();
}

/**
 * The running task that pushed `branch` and has not recorded a pull request yet: the one whose
 * draft PR on that branch was just opened. `push` records the branch before the PR is opened, and
 * `pr_number` is written only as the run ends, so in between this is how a `pull_request` event
 * for the new PR finds its task. One open task per issue (or finding), and a `task-<id>` branch
 * for the others, make it at most one.
 */
export async function findUnrecordedTaskOfBranch(db: Db, repositoryId: number, branch: string): Promise<Task | undefined> {
  return db
    .selectFrom("tasks")
    .selectAll()
    .where("repository_id", "=", repositoryId)
    .where("branch", "=", branch)
    .where("state", "=", "running")
    .where("pr_number", "is", null)
    .orderBy("id", "desc")
    .executeTakeFirst();
}

/** Filters of `listTasks`. */
export interface TaskFilter {
  repositoryId?: number;
  states?: readonly TaskState[];
  limit?: number;
  /** Only tasks with an id below this (keyset pagination, newest first). */
  beforeId?: number;
}

/** Tasks, newest first. */
export async function listTasks(db: Db, filter: TaskFilter = {}): Promise<Task[]> {
  let query = db.selectFrom("tasks").selectAll();
  if (filter.repositoryId !== undefined) query = query.where("repository_id", "=", filter.repositoryId);
  if (filter.states?.length) query = query.where("state", "in", filter.states);
  if (filter.beforeId !== undefined) query = query.where("id", "<", filter.beforeId);
  return query
    .orderBy("id", "desc")
    .limit(filter.limit ?? 100)
    .execute();
}

/** Open tasks (queued + running + pr_open) of a repository: what `prConcurrentLimit` counts. */
export async function countOpenTasks(db: Db, repositoryId: number): Promise<number> {
  const row = await db
    .selectFrom("tasks")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("repository_id", "=", repositoryId)
    .where("state", "in", OPEN_STATES)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Tasks of a repository requested since `sinceIso` (ISO): what `prHourlyLimit` counts over the
 * last hour: created then, or retried then (a retry sets `requested_at`; a new task's may be its
 * comment's older time), so retrying ten old tasks at once is ten starts this hour.
 */
export async function countTasksSince(db: Db, repositoryId: number, sinceIso: string): Promise<number> {
  const row = await db
    .selectFrom("tasks")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("repository_id", "=", repositoryId)
    .where((eb) => eb.or([eb("created_at", ">=", sinceIso), eb("requested_at", ">=", sinceIso)]))
    .where("state", "!=", "cancelled")
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Queued tasks of a repository (null: of all): runs that will start, which run budgets count before they do. */
export async function countQueuedTasks(db: Db, repositoryId: number | null): Promise<number> {
  let query = db
    .selectFrom("tasks")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("state", "=", "queued");
  if (repositoryId !== null) query = query.where("repository_id", "=", repositoryId);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

/** Agent runs (attempts and rounds) of a repository started since `sinceIso`: the daily run budget. */
export async function countRunsSince(db: Db, repositoryId: number | null, sinceIso: string): Promise<number> {
  let query = db
    .selectFrom("runs")
    .innerJoin("tasks", "tasks.id", "runs.task_id")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("runs.started_at", ">=", sinceIso);
  if (repositoryId !== null) query = query.where("tasks.repository_id", "=", repositoryId);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.n);
}
