import { type Db, immediate, now } from "./db.js";
import type { Task, TaskState, TaskTrigger, TaskUpdate } from "./schema.js";

/** States in which a task still holds its issue: a second request for that issue adds no task. */
export const OPEN_STATES: readonly TaskState[] = ["queued", "running"];
/** States a task never leaves. */
export const FINAL_STATES: readonly TaskState[] = ["merged", "closed", "no_changes", "failed", "cancelled"];

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
}

/**
 * Creates a queued task, unless the issue (or finding) already has one queued or running, in which
 * case that one is returned with `created: false`. The unique partial indexes of migration 0001
 * decide, so two racing requests cannot both win.
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
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { task: inserted, created: true };
  let existing = db.selectFrom("tasks").selectAll().where("repository_id", "=", input.repositoryId).where("state", "in", OPEN_STATES);
  existing =
    input.issueNumber != null
      ? existing.where("issue_number", "=", input.issueNumber)
      : existing.where("finding_id", "=", input.findingId ?? -1);
  return { task: await existing.executeTakeFirstOrThrow(), created: false };
}

export async function getTask(db: Db, id: number): Promise<Task | undefined> {
  return db.selectFrom("tasks").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Takes the oldest queued task: it becomes `running`, its attempt is counted and a lease of
 * `leaseMs` milliseconds is written for `owner`. `BEGIN IMMEDIATE` makes the read and the claim one
 * step, so two executors (or two processes) never take the same task.
 */
export async function claimNextTask(db: Db, owner: string, leaseMs: number): Promise<Task | undefined> {
  return immediate(db, async (trx) => {
    const next = await trx.selectFrom("tasks").select("id").where("state", "=", "queued").orderBy("id").limit(1).executeTakeFirst();
    if (!next) return undefined;
    return trx
      .updateTable("tasks")
      .set((eb) => ({
        state: "running",
        attempts: eb("attempts", "+", 1),
        lease_owner: owner,
        lease_expires_at: new Date(Date.now() + leaseMs).toISOString(),
        updated_at: now(),
      }))
      .where("id", "=", next.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** Extends a running task's lease; false when the task is no longer this owner's (it was recovered or cancelled). */
export async function renewLease(db: Db, id: number, owner: string, leaseMs: number): Promise<boolean> {
  const result = await db
    .updateTable("tasks")
    .set({ lease_expires_at: new Date(Date.now() + leaseMs).toISOString() })
    .where("id", "=", id)
    .where("state", "=", "running")
    .where("lease_owner", "=", owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Moves a task from one of `from` to `to`, with extra column changes, in one statement. Returns the
 * updated task, or undefined when the task was not in one of `from` (someone else moved it first).
 * Leaving `running` clears the lease.
 */
export async function transitionTask(
  db: Db,
  id: number,
  from: readonly TaskState[],
  to: TaskState,
  patch: Omit<TaskUpdate, "id" | "state"> = {},
): Promise<Task | undefined> {
  const lease = to === "running" ? {} : { lease_owner: null, lease_expires_at: null };
  return db
    .updateTable("tasks")
    .set({ ...patch, ...lease, state: to, updated_at: now() })
    .where("id", "=", id)
    .where("state", "in", from)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Finds running tasks whose lease expired (their process died) and puts each back in the queue,
 * or ends it `failed` once it has used `maxAttempts` attempts.
 * @returns the tasks requeued and the tasks failed.
 */
export async function recoverExpiredTasks(db: Db, maxAttempts: number): Promise<{ requeued: Task[]; failed: Task[] }> {
  return immediate(db, async (trx) => {
    const expired = await trx
      .selectFrom("tasks")
      .selectAll()
      .where("state", "=", "running")
      .where("lease_expires_at", "<", now())
      .execute();
    const requeued: Task[] = [];
    const failed: Task[] = [];
    for (const task of expired) {
      const exhausted = task.attempts >= maxAttempts;
      const moved = await transitionTask(
        trx,
        task.id,
        ["running"],
        exhausted ? "failed" : "queued",
        exhausted ? { error: `the worker running it stopped ${task.attempts} times; giving up` } : {},
      );
      if (moved) (exhausted ? failed : requeued).push(moved);
    }
    return { requeued, failed };
  });
}

/** The task that opened pull request `prNumber` in a repository, if it was ours. */
export async function findTaskByPullRequest(db: Db, repositoryId: number, prNumber: number): Promise<Task | undefined> {
  return db.selectFrom("tasks").selectAll().where("repository_id", "=", repositoryId).where("pr_number", "=", prNumber).executeTakeFirst();
}

/** Tasks, newest first, optionally of one repository. */
export async function listTasks(db: Db, repositoryId?: number, limit = 100): Promise<Task[]> {
  let query = db.selectFrom("tasks").selectAll();
  if (repositoryId !== undefined) query = query.where("repository_id", "=", repositoryId);
  return query.orderBy("id", "desc").limit(limit).execute();
}

/** How many of a repository's pull requests are open, for `prConcurrentLimit`. */
export async function countOpenPullRequests(db: Db, repositoryId: number): Promise<number> {
  const row = await db
    .selectFrom("tasks")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("repository_id", "=", repositoryId)
    .where("state", "=", "pr_open")
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
