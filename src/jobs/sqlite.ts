import { type Db, now, rawSqlite } from "../store/db.js";
import type { JobsTable } from "../store/schema.js";
import { BacklogBotError } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { isDeadLocalOwner, localOwnerPrefix, newOwnerId } from "../util/owner.js";
import type { DeadJob, JobContext, JobHandler, JobSpec, JobStats, Jobs } from "./types.js";

/** Options of the SQLite backend. */
export interface SqliteJobsOptions {
  db: Db;
  log: Logger;
  /** How often (ms) to look for due jobs added by other processes or come due; default 500. */
  pollMs?: number;
  /** A running job's lease (ms), renewed every third of it; default 60 s. */
  leaseMs?: number;
  /** Delay (ms) before attempt `attempt + 1`; default exponential with jitter (see the port's TSDoc). */
  backoffMs?: (attempt: number) => number;
}

const DEFAULT_MAX_ATTEMPTS = 8;
const DEFAULT_CONCURRENCY = 4;

/** `min(2^attempt s, 1 h) × (0.5 … 1.5)`: exponential backoff with full jitter around the mean. */
export function defaultBackoffMs(attempt: number): number {
  return Math.min(2 ** attempt * 1000, 3_600_000) * (0.5 + Math.random());
}

interface Lane<P = unknown> {
  handler: JobHandler<P>;
  concurrency: number;
  running: number;
}

type JobRow = Omit<JobsTable, "id" | "attempts"> & { id: number; attempts: number };

/**
 * The jobs port on the store's SQLite file: a `jobs` table claimed under `BEGIN IMMEDIATE` (so two
 * processes never take one job), leases renewed by a heartbeat, finished jobs deleted, exhausted
 * ones kept `dead`. Leases held by a dead process of this host are taken back at start.
 */
export function createSqliteJobs(options: SqliteJobsOptions): Jobs {
  const { db, log } = options;
  const sqlite = rawSqlite(db);
  if (!sqlite) throw new BacklogBotError("INVALID_SETTINGS", "the SQLite jobs backend needs a SQLite store");
  const owner = newOwnerId();
  const pollMs = options.pollMs ?? 500;
  const leaseMs = options.leaseMs ?? 60_000;
  const backoff = options.backoffMs ?? defaultBackoffMs;
  const lanes = new Map<string, Lane>();
  const running = new Map<number, { controller: AbortController; done: Promise<void> }>();
  const runningQueues = new Set<string>();
  let started = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pumping: Promise<void> | undefined;
  let again = false;
  const waiters: Array<() => void> = [];

  // The hot path's statements, prepared once on the raw handle (Kysely would build and better-sqlite3
  // prepare each on every call: most of the per-delivery cost in bench/ingest.ts).
  const st = {
    sweep: sqlite.prepare(
      "update jobs set state = 'waiting', locked_by = null, locked_until = null, updated_at = ? where state = 'running' and locked_until < ?",
    ),
    candidates: sqlite.prepare(
      `select id, kind, payload, queue, attempts, max_attempts from jobs
       where state = 'waiting' and run_at <= ? and kind in (select value from json_each(?))
         and (queue is null or queue not in (select queue from jobs where state = 'running' and queue is not null))
       order by run_at, id limit ?`,
    ),
    lock: sqlite.prepare(
      "update jobs set state = 'running', attempts = attempts + 1, locked_by = ?, locked_until = ?, updated_at = ? where id = ? and state = 'waiting'",
    ),
    renew: sqlite.prepare("update jobs set locked_until = ? where id = ? and locked_by = ? and state = 'running'"),
    done: sqlite.prepare("delete from jobs where id = ? and locked_by = ?"),
    busy: sqlite
      .prepare(
        `select count(*) from jobs where state = 'running'
           or (state = 'waiting' and kind in (select value from json_each(?)) and (run_at <= ? or attempts > 0))`,
      )
      .pluck(),
  };

  /**
   * Moves every expired lease back to waiting (their process died or hung); on the poll timer, not
   * per claim. This process's own running jobs are renewed first: after the event loop stalled past
   * the lease (a long GC, a paused VM) the sweep may fire before their heartbeats, and took them
   * back to be claimed again here, running beside themselves.
   */
  const sweep = (): void => {
    const until = leaseUntil();
    for (const id of running.keys()) st.renew.run(until, id, owner);
    const at = now();
    st.sweep.run(at, at);
  };

  /** Claims up to `limit` due jobs of the `kinds` with free slots, in one `BEGIN IMMEDIATE` transaction. */
  const claim = sqlite.transaction((kinds: string[], limit: number, slots: Map<string, number>): JobRow[] => {
    const at = now();
    const until = leaseUntil();
    const rows = st.candidates.all(at, JSON.stringify(kinds), limit * 4) as JobRow[];
    const take: JobRow[] = [];
    const queues = new Set<string>();
    for (const row of rows) {
      if (take.length >= limit) break;
      const slot = slots.get(row.kind) ?? 0;
      if (slot <= 0 || (row.queue && (queues.has(row.queue) || runningQueues.has(row.queue)))) continue;
      if (st.lock.run(owner, until, at, row.id).changes === 0) continue;
      slots.set(row.kind, slot - 1);
      if (row.queue) queues.add(row.queue);
      row.attempts += 1;
      take.push(row);
    }
    return take;
  });

  const wake = (): void => {
    if (!started || stopped) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = pump()
      .catch((err: unknown) => log.error({ err }, "could not claim jobs"))
      .finally(() => {
        pumping = undefined;
        if (again) {
          again = false;
          wake();
        } else if (waiters.length > 0) {
          notifyIfIdle();
        }
      });
  };

  const notifyIfIdle = (): void => {
    if (running.size > 0 || pumping) return;
    void isIdle().then((idle) => {
      if (!idle) return;
      for (const resolve of waiters.splice(0)) resolve();
    });
  };

  const isIdle = async (): Promise<boolean> => {
    if (running.size > 0 || pumping) return false;
    return Number(st.busy.get(JSON.stringify([...lanes.keys()]), now())) === 0;
  };

  const pump = async (): Promise<void> => {
    const slots = new Map<string, number>();
    for (const [kind, lane] of lanes) if (lane.running < lane.concurrency) slots.set(kind, lane.concurrency - lane.running);
    const free = [...slots.values()].reduce((a, b) => a + b, 0);
    if (free === 0) return;
    const claimed = claim.immediate([...slots.keys()], free, slots);
    for (const row of claimed) execute(row);
    // Only a claim that filled every free slot may have left due jobs behind.
    if (claimed.length === free) again = true;
  };

  const leaseUntil = () => new Date(Date.now() + leaseMs).toISOString();

  const execute = (row: JobRow): void => {
    const lane = lanes.get(row.kind);
    if (!lane) return;
    lane.running++;
    if (row.queue) runningQueues.add(row.queue);
    const controller = new AbortController();
    const jobLog = log.child({ jobId: String(row.id), kind: row.kind });
    const heartbeat = setInterval(() => {
      try {
        if (st.renew.run(leaseUntil(), row.id, owner).changes === 0) {
          jobLog.warn("job lease lost; aborting its handler");
          controller.abort(new Error("job lease lost"));
        }
      } catch (err) {
        jobLog.warn({ err }, "could not renew the job lease");
      }
    }, leaseMs / 3);
    heartbeat.unref();
    const context: JobContext = { id: String(row.id), kind: row.kind, attempt: row.attempts, signal: controller.signal, log: jobLog };
    const done = (async () => {
      try {
        await lane.handler(JSON.parse(row.payload), context);
        st.done.run(row.id, owner);
      } catch (error) {
        await settleFailure(row, error, controller.signal.aborted && stopped, jobLog);
      }
    })()
      .catch((err: unknown) => jobLog.error({ err }, "could not record the job's end; its lease will bring it back"))
      .finally(() => {
        clearInterval(heartbeat);
        lane.running--;
        if (row.queue) runningQueues.delete(row.queue);
        running.delete(row.id);
        wake();
      });
    running.set(row.id, { controller, done });
  };

  const settleFailure = async (row: JobRow, error: unknown, interrupted: boolean, jobLog: Logger): Promise<void> => {
    const message = error instanceof Error ? error.message : String(error);
    const base = db.updateTable("jobs").where("id", "=", row.id).where("locked_by", "=", owner);
    if (interrupted) {
      // Stopped by shutdown, not by its own fault: the attempt does not count.
      await base.set({ state: "waiting", attempts: row.attempts - 1, locked_by: null, locked_until: null, updated_at: now() }).execute();
      return;
    }
    if (row.attempts >= row.max_attempts) {
      jobLog.error({ err: error, attempts: row.attempts }, "job failed for good; kept as dead");
      await base
        .set({ state: "dead", locked_by: null, locked_until: null, last_error: message.slice(0, 4000), updated_at: now() })
        .execute();
      return;
    }
    const delay = backoff(row.attempts);
    jobLog.warn({ err: error, attempt: row.attempts, retryInMs: Math.round(delay) }, "job failed; will retry");
    await base
      .set({
        state: "waiting",
        locked_by: null,
        locked_until: null,
        last_error: message.slice(0, 4000),
        run_at: new Date(Date.now() + delay).toISOString(),
        updated_at: now(),
      })
      .execute();
  };

  /** Leases of this host's dead processes come back at once, not after they expire. */
  const releaseDeadOwners = async (): Promise<void> => {
    const held = await db
      .selectFrom("jobs")
      .select(["id", "locked_by"])
      .where("state", "=", "running")
      .where("locked_by", "like", `${localOwnerPrefix()}%`)
      .execute();
    const dead = held.filter((r) => isDeadLocalOwner(r.locked_by, owner)).map((r) => r.id);
    if (dead.length === 0) return;
    await db
      .updateTable("jobs")
      .set({ state: "waiting", locked_by: null, locked_until: null, run_at: now(), updated_at: now() })
      .where("id", "in", dead)
      .where("state", "=", "running")
      .execute();
    log.warn({ jobs: dead.length }, "jobs of a dead process of this host released");
  };

  return {
    async add<P>(spec: JobSpec<P>): Promise<string> {
      const at = now();
      const inserted = await db
        .insertInto("jobs")
        .values({
          kind: spec.kind,
          payload: JSON.stringify(spec.payload ?? null),
          queue: spec.queue ?? null,
          key: spec.key ?? null,
          state: "waiting",
          run_at: (spec.runAt ?? new Date()).toISOString(),
          max_attempts: spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
          created_at: at,
          updated_at: at,
        })
        .onConflict((oc) => oc.doNothing())
        .returning("id")
        .executeTakeFirst();
      let id = inserted?.id;
      if (id === undefined) {
        const twin = await db
          .selectFrom("jobs")
          .select("id")
          .where("key", "=", spec.key ?? "")
          .where("state", "in", ["waiting", "running"])
          .executeTakeFirst();
        id = twin?.id ?? -1;
      }
      wake();
      return String(id);
    },
    notify: wake,
    handle<P>(kind: string, handler: JobHandler<P>, opts?: { concurrency?: number }) {
      lanes.set(kind, { handler: handler as JobHandler, concurrency: opts?.concurrency ?? DEFAULT_CONCURRENCY, running: 0 });
      wake();
    },
    async start() {
      if (started) return;
      started = true;
      stopped = false;
      await releaseDeadOwners();
      sweep();
      timer = setInterval(() => {
        try {
          sweep();
        } catch (err) {
          log.warn({ err }, "could not sweep expired job leases");
        }
        wake();
      }, pollMs);
      timer.unref();
      wake();
    },
    async stop(graceMs = 10_000) {
      stopped = true;
      if (timer) clearInterval(timer);
      await pumping;
      const all = [...running.values()];
      for (const job of all) job.controller.abort(new Error("the worker is stopping"));
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(all.map((j) => j.done)),
        new Promise<void>((resolve) => {
          graceTimer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(graceTimer);
      // What did not finish in time is released for the next process (its attempt not counted).
      await db
        .updateTable("jobs")
        .set((eb) => ({ state: "waiting", attempts: eb("attempts", "-", 1), locked_by: null, locked_until: null, updated_at: now() }))
        .where("locked_by", "=", owner)
        .where("state", "=", "running")
        .execute();
      started = false;
    },
    async drain() {
      for (;;) {
        if (await isIdle()) return;
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, pollMs).unref();
          wake();
        });
      }
    },
    async stats(): Promise<JobStats> {
      const rows = await db
        .selectFrom("jobs")
        .select((eb) => ["state", eb.fn.countAll<number>().as("n"), eb.fn.min("run_at").as("oldest")])
        .groupBy("state")
        .execute();
      const count = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
      const due = await db
        .selectFrom("jobs")
        .select((eb) => eb.fn.min("run_at").as("oldest"))
        .where("state", "=", "waiting")
        .where("run_at", "<=", now())
        .executeTakeFirst();
      const oldest = due?.oldest ? Date.now() - Date.parse(String(due.oldest)) : 0;
      return {
        pending: count("waiting") + count("running"),
        running: count("running"),
        dead: count("dead"),
        oldestDueMs: Math.max(0, oldest),
      };
    },
    async dead(limit = 50): Promise<DeadJob[]> {
      const rows = await db.selectFrom("jobs").selectAll().where("state", "=", "dead").orderBy("updated_at", "desc").limit(limit).execute();
      return rows.map((r) => ({
        id: String(r.id),
        kind: r.kind,
        payload: JSON.parse(r.payload),
        attempts: r.attempts,
        lastError: r.last_error,
        failedAt: r.updated_at,
      }));
    },
    async retry(id: string): Promise<boolean> {
      // A pending twin with the same key makes this a unique-index conflict: nothing to retry then.
      const result = await db
        .updateTable("jobs")
        .set({ state: "waiting", attempts: 0, run_at: now(), updated_at: now() })
        .where("id", "=", Number(id))
        .where("state", "=", "dead")
        .executeTakeFirst()
        .catch(() => ({ numUpdatedRows: 0n }));
      wake();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
