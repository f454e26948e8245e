import { type Db, now } from "./db.js";
import type { Run, RunsTable } from "./schema.js";

/** Opens a run row for one agent attempt; returns its id. */
export async function startRun(db: Db, taskId: number, agent: string): Promise<number> {
  const row = await db.insertInto("runs").values({ task_id: taskId, agent, started_at: now() }).returning("id").executeTakeFirstOrThrow();
  return row.id;
}

/** What an attempt ended with; every field optional so a failure can record only what it knows. */
export type RunResult = Partial<Omit<RunsTable, "id" | "task_id" | "agent" | "started_at" | "ended_at">>;

export async function finishRun(db: Db, runId: number, result: RunResult): Promise<void> {
  await db
    .updateTable("runs")
    .set({ ...result, ended_at: now() })
    .where("id", "=", runId)
    .execute();
}

export async function listRuns(db: Db, taskId: number): Promise<Run[]> {
  return db.selectFrom("runs").selectAll().where("task_id", "=", taskId).orderBy("id").execute();
}

/** The task's most recent run row (the attempt that just ended), of `agent` when given (parallel attempts run at once), or undefined. */
export async function latestRun(db: Db, taskId: number, agent?: string): Promise<Run | undefined> {
  let query = db.selectFrom("runs").selectAll().where("task_id", "=", taskId);
  if (agent !== undefined) query = query.where("agent", "=", agent);
  return query.orderBy("id", "desc").limit(1).executeTakeFirst();
}
