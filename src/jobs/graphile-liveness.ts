import pg from "pg";
import type { Logger } from "../util/logger.js";
import { SCHEMA } from "./graphile-sql.js";

/**
 * graphile-worker 0.17 takes back a crashed worker's jobs only after they have been locked for
 * 4 hours. This gives it liveness instead: each process holds a session advisory lock per worker
 * pool (`locked_by` of its jobs and queues) on a connection of its own; PostgreSQL drops those
 * locks the moment the connection dies (`kill -9`, a lost host after TCP keepalive). Any live
 * process's sweep then unlocks, with graphile-worker's own `force_unlock_workers`, whatever is
 * locked by a pool whose lock is gone, so the jobs run again (the port is at-least-once).
 *
 * A pool is only judged once its jobs have been locked for `graceMs`, which covers the moment
 * between the pool taking its first job and this process taking its lock.
 */
export const LIVENESS_LOCK_CLASS = 4_242_002;

export class Liveness {
  readonly #client: pg.Client;
  readonly #log: Logger;
  #connected: Promise<void> | undefined;

  constructor(connectionString: string, log: Logger) {
    this.#client = new pg.Client({ connectionString, keepAlive: true });
    this.#log = log;
    // Losing this connection drops our locks: others will take our jobs back; stay up, say so.
    this.#client.on("error", (err) => log.error({ err }, "job liveness connection lost; running jobs may be run again elsewhere"));
  }

  /** Holds the lock that says pool `poolId` is alive, for as long as this process lives. */
  async hold(poolId: string): Promise<void> {
    this.#connected ??= this.#client.connect().then(() => undefined);
    await this.#connected;
    await this.#client.query("select pg_advisory_lock($1, hashtext($2))", [LIVENESS_LOCK_CLASS, poolId]);
  }

  /** Ends the connection, releasing every lock (after the pools have stopped and unlocked their jobs). */
  async close(): Promise<void> {
    if (this.#connected) await this.#client.end().catch(() => undefined);
  }

  /** Logs through this process's logger. */
  get log(): Logger {
    return this.#log;
  }
}

/**
 * Unlocks the jobs and queues of every worker pool that holds no liveness lock and has held its
 * locks for longer than `graceMs`.
 * @returns the dead pools' ids.
 */
export async function sweepDeadPools(pool: pg.Pool, graceMs: number): Promise<string[]> {
  const { rows } = await pool.query<{ locked_by: string }>(
    `with holders as (
       select locked_by, locked_at from ${SCHEMA}._private_jobs where locked_by is not null
       union all
       select locked_by, locked_at from ${SCHEMA}._private_job_queues where locked_by is not null
     )
     select distinct h.locked_by from holders h
     where h.locked_at < now() - make_interval(secs => $2::double precision / 1000)
       and not exists (
         select 1 from pg_locks l
         where l.locktype = 'advisory' and l.granted and l.objsubid = 2
           and l.classid = $1::int::oid
           and l.objid = (hashtext(h.locked_by)::bigint & 4294967295)::oid)`,
    [LIVENESS_LOCK_CLASS, graceMs],
  );
  const dead = rows.map((r) => r.locked_by);
  if (dead.length > 0) await pool.query(`select ${SCHEMA}.force_unlock_workers($1::text[])`, [dead]);
  return dead;
}
