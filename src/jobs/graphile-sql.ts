import type pg from "pg";
import type { DeadJob, JobStats } from "./types.js";

/**
 * The SQL the graphile-worker backend runs itself. `graphile_worker.add_job`, `reschedule_jobs` and
 * `force_unlock_workers` are graphile-worker's public SQL API; reading and patching
 * `graphile_worker._private_jobs` (and the `jobs` view) is not, which is one reason the dependency is
 * pinned to `~0.17` (its schema: https://worker.graphile.org/docs/schema).
 */
export const SCHEMA = "graphile_worker";

/**
 * Adds a job, deduplicated by key against pending (waiting or running) twins only. graphile-worker's
 * `unsafe_dedupe` mode keeps the existing job, even while it runs (the port's contract), but also
 * matches a permanently failed one: then that one gives its key up (it stays listed as dead) and the
 * job is added again. One statement in the common case (the web role's hot path).
 * @returns the new job's id, or the pending twin's.
 */
export async function addJob(
  client: pg.Pool | pg.ClientBase,
  spec: { kind: string; payload: unknown; runAt?: Date; key?: string; maxAttempts: number; queue?: string },
): Promise<string> {
  const add = () =>
    client.query<{ id: string; dead: boolean }>(
      `select id::text, (attempts >= max_attempts and locked_at is null) as dead
       from ${SCHEMA}.add_job($1, $2::json, queue_name => $3, run_at => $4, max_attempts => $5, job_key => $6, job_key_mode => $7)`,
      [
        spec.kind,
        JSON.stringify(spec.payload ?? null),
        spec.queue ?? null,
        spec.runAt?.toISOString() ?? null,
        spec.maxAttempts,
        spec.key ?? null,
        spec.key ? "unsafe_dedupe" : "replace",
      ],
    );
  let row = (await add()).rows[0];
  if (row?.dead && spec.key) {
    await client.query(
      `update ${SCHEMA}._private_jobs set key = null where id = $1::bigint and attempts >= max_attempts and locked_at is null`,
      [row.id],
    );
    row = (await add()).rows[0];
  }
  return row?.id ?? "";
}

/** The port's counts (see `JobStats`): dead means attempts spent and not locked. */
export async function jobStats(pool: pg.Pool): Promise<JobStats> {
  const { rows } = await pool.query<{ pending: string; running: string; dead: string; oldest_due_ms: string | null }>(
    `select
       count(*) filter (where attempts < max_attempts or locked_at is not null) as pending,
       count(*) filter (where locked_at is not null) as running,
       count(*) filter (where attempts >= max_attempts and locked_at is null) as dead,
       extract(epoch from now() - min(run_at) filter (where locked_at is null and attempts < max_attempts and run_at <= now())) * 1000 as oldest_due_ms
     from ${SCHEMA}._private_jobs`,
  );
  const row = rows[0];
  return {
    pending: Number(row?.pending ?? 0),
    running: Number(row?.running ?? 0),
    dead: Number(row?.dead ?? 0),
    oldestDueMs: Math.max(0, Math.round(Number(row?.oldest_due_ms ?? 0))),
  };
}

/** Permanently failed jobs, newest first. */
export async function deadJobs(pool: pg.Pool, limit: number): Promise<DeadJob[]> {
  const { rows } = await pool.query<{
    id: string;
    kind: string;
    payload: unknown;
    attempts: number;
    last_error: string | null;
    failed_at: Date;
  }>(
    `select j.id::text, t.identifier as kind, j.payload, j.attempts, j.last_error, j.updated_at as failed_at
     from ${SCHEMA}._private_jobs j join ${SCHEMA}._private_tasks t on t.id = j.task_id
     where j.attempts >= j.max_attempts and j.locked_at is null
     order by j.updated_at desc, j.id desc limit $1`,
    [limit],
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    payload: r.payload,
    attempts: r.attempts,
    lastError: r.last_error,
    failedAt: new Date(r.failed_at).toISOString(),
  }));
}

/**
 * Puts a dead job back with fresh attempts, due now. False when it is not dead, or when a pending
 * twin holds its key (the twin will do the work).
 */
export async function retryDead(pool: pg.Pool, id: string): Promise<boolean> {
  const { rows } = await pool.query<{ id: string }>(
    `update ${SCHEMA}._private_jobs as j set attempts = 0, run_at = now(), updated_at = now()
     where j.id = $1::bigint and j.attempts >= j.max_attempts and j.locked_at is null
       and (j.key is null or not exists (
         select 1 from ${SCHEMA}._private_jobs t where t.key = j.key and t.id <> j.id))
     returning id::text`,
    [id],
  );
  if (rows.length === 0) return false;
  // Wake the workers that LISTEN (graphile-worker's channel), as add_job does.
  await pool.query(`select pg_notify('jobs:insert', '{"count":1}')`);
  return true;
}

/**
 * Whether any job of `kinds` is due, running, or waiting for a retry (what `drain()` waits out,
 * as the SQLite backend does).
 */
export async function busy(pool: pg.Pool, kinds: string[]): Promise<boolean> {
  const { rows } = await pool.query<{ n: string }>(
    `select count(*) as n from ${SCHEMA}.jobs
     where task_identifier = any($1::text[])
       and (locked_at is not null or (attempts < max_attempts and (run_at <= now() or attempts > 0)))`,
    [kinds],
  );
  return Number(rows[0]?.n ?? 0) > 0;
}

/**
 * Gives back attempts that a shutdown interrupted (the job was not at fault) and makes the jobs
 * due now: jobs unlocked, or still locked by this process's pools (`poolIds`). graphile-worker
 * may record the failure after its runner has stopped (it unlocks the job then, but never
 * touches `attempts`); a job another process has locked since is left alone.
 */
export async function refundAttempts(pool: pg.Pool, ids: string[], poolIds: string[]): Promise<void> {
  if (ids.length === 0) return;
  await pool.query(
    `update ${SCHEMA}._private_jobs set attempts = greatest(attempts - 1, 0), run_at = now()
     where id = any($1::bigint[]) and (locked_at is null or locked_by = any($2::text[]))`,
    [ids, poolIds],
  );
}
