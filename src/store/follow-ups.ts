import type { Selectable } from "kysely";
import { type Db, now } from "./db.js";
import type { FollowUpsTable } from "./schema.js";

/** One follow-up row. */
export type FollowUpRow = Selectable<FollowUpsTable>;

/** Records that a follow-up starts (or, with trigger `summary`, that the summary at the bound was posted); returns its id. */
export async function startFollowUp(
  db: Db,
  input: { taskId: number; trigger: string; headSha: string; checkName?: string | null },
): Promise<number> {
  const row = await db
    .insertInto("follow_ups")
    .values({
      task_id: input.taskId,
      trigger: input.trigger,
      head_sha: input.headSha,
      check_name: input.checkName ?? null,
      created_at: now(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Records how a follow-up ended (`outcomeSignature`). */
export async function endFollowUp(db: Db, id: number, outcome: string): Promise<void> {
  await db.updateTable("follow_ups").set({ outcome, ended_at: now() }).where("id", "=", id).execute();
}

/**
 * Ends the task's follow-ups that never recorded an end (their worker died) with `outcome`
 * (`interrupted`); returns how many.
 */
export async function endUnfinishedFollowUps(db: Db, taskId: number, outcome: string): Promise<number> {
  const result = await db
    .updateTable("follow_ups")
    .set({ outcome, ended_at: now() })
    .where("task_id", "=", taskId)
    .where("outcome", "is", null)
    .where("trigger", "!=", "summary")
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The task's follow-ups, oldest first (the summary marker included). */
export async function listFollowUps(db: Db, taskId: number): Promise<FollowUpRow[]> {
  return db.selectFrom("follow_ups").selectAll().where("task_id", "=", taskId).orderBy("id").execute();
}
