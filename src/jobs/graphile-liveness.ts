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

/** Longest wait (ms) between attempts to take the locks back after the connection was lost. */
const RETAKE_MAX_MS = 30_000;

export class Liveness {
  readonly #connectionString: string;
  readonly #log: Logger;
  /** Pools whose lock this process holds, or takes back after a lost connection. */
  readonly #held = new Set<string>();
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #closed = false;

  constructor(connectionString: string, log: Logger) {
    this.#connectionString = connectionString;
    this.#log = log;
  }

  /** Holds the lock that says pool `poolId` is alive, for as long as this process lives (taken back on a new connection if it drops). */
  async hold(poolId: string): Promise<void> {
    this.#held.add(poolId);
    const client = await this.#connection();
    await client.query("select pg_advisory_lock($1, hashtext($2))", [LIVENESS_LOCK_CLASS, poolId]);
  }

  /** Ends the connection, releasing every lock (after the pools have stopped and unlocked their jobs). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#client?.end().catch(() => undefined);
  }

  /** Logs through this process's logger. */
  get log(): Logger {
    return this.#log;
  }

  #connection(): Promise<pg.Client> {
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.#connectionString, keepAlive: true });
      client.on("error", (err) => {
        this.#log.error({ err }, "job liveness connection lost; taking its locks back on a new one");
        this.#lost(client);
      });
      client.on("end", () => this.#lost(client));
      await client.connect();
      this.#client = client;
      return client;
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /**
   * The connection dropped (a PostgreSQL restart, an idle timeout of a proxy) and its locks with it:
   * until they are back, other processes' sweeps take this process's running jobs back and run them
   * again beside it. Retaken on a new connection, retrying with backoff.
   */
  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    if (!this.#closed) this.#retake(250);
  }

  #retake(delayMs: number): void {
    const timer = setTimeout(() => {
      if (this.#closed) return;
      this.#connection()
        .then(async (client) => {
          for (const poolId of this.#held) await client.query("select pg_advisory_lock($1, hashtext($2))", [LIVENESS_LOCK_CLASS, poolId]);
          this.#log.info({ pools: this.#held.size }, "job liveness locks taken back");
        })
        .catch((err: unknown) => {
          this.#log.error({ err }, "could not take the job liveness locks back; trying again");
          this.#retake(Math.min(delayMs * 2, RETAKE_MAX_MS));
        });
    }, delayMs);
    timer.unref();
  }
}

/**
 * Unlocks the jobs and queues of every worker pool that holds no liveness lock and has held its
 * locks for longer than `graceMs`, except `own` (the calling process's pools: alive, even while its
 * liveness connection is being re-established).
 * @returns the dead pools' ids.
 */
export async function sweepDeadPools(pool: pg.Pool, graceMs: number, own: ReadonlySet<string> = new Set()): Promise<string[]> {
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
  // This process's own pools are alive whatever its liveness connection says.
  const dead = rows.map((r) => r.locked_by).filter((id) => !own.has(id));
  if (dead.length > 0) await pool.query(`select ${SCHEMA}.force_unlock_workers($1::text[])`, [dead]);
  return dead;
}
