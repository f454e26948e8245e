import { EventEmitter } from "node:events";
import { Logger as GraphileLogger, type JobHelpers, type Runner, run, runMigrations, type WorkerEvents } from "graphile-worker";
import pg from "pg";
import type { Logger } from "../util/logger.js";
import { Liveness, sweepDeadPools } from "./graphile-liveness.js";
import { addJob, busy, deadJobs, jobStats, refundAttempts, retryDead } from "./graphile-sql.js";
import type { DeadJob, JobContext, JobHandler, JobSpec, JobStats, Jobs } from "./types.js";

/** Options of the PostgreSQL backend. */
export interface GraphileJobsOptions {
  /** `postgres://…`, the store's database: graphile-worker keeps its tables in schema `graphile_worker` there. */
  connectionString: string;
  log: Logger;
  /** Most connections this backend opens (the store's pool is separate; each kind's runner keeps one for LISTEN); default 20. */
  poolSize?: number;
  /** How often (ms) idle workers look for jobs come due (new ones arrive by LISTEN/NOTIFY at once); default 1000. */
  pollMs?: number;
  /** How often (ms) this process looks for jobs locked by dead processes; default 15 s. */
  sweepMs?: number;
  /** How long (ms) a lock must have been held before a missing liveness lock counts as death; default 30 s. */
  deadGraceMs?: number;
}

/** The port's default attempts (types.ts); graphile-worker's own default is 25. */
const DEFAULT_MAX_ATTEMPTS = 8;
const DEFAULT_CONCURRENCY = 4;

interface Lane {
  handler: JobHandler;
  concurrency: number;
}

/**
 * The jobs port on graphile-worker (https://worker.graphile.org), for when the store is PostgreSQL:
 * any number of processes add and run jobs against one database.
 *
 * - **Runs**: one graphile-worker runner per kind, so each kind keeps its own concurrency; jobs
 *   are fetched with `FOR UPDATE SKIP LOCKED` and announced by LISTEN/NOTIFY.
 * - **Retries**: graphile-worker's backoff, `exp(min(attempt, 10))` seconds (2.7 s, 7.4 s, 20 s, …
 *   at most about 6 h), not the SQLite backend's `min(2^n s, 1 h)` with jitter; both are
 *   "exponential backoff" as the port promises. A job out of attempts stays in graphile-worker's
 *   table as dead (`attempts = max_attempts`), listed by `dead()` and revived by `retry()`.
 * - **Dedupe**: `jobKey` with mode `unsafe_dedupe`, which keeps a pending job, running or not (see graphile-sql.ts).
 * - **Queues**: `queueName`: graphile-worker runs one job of a queue at a time, across processes.
 * - **Crashes**: a dead process's jobs come back within `sweepMs + deadGraceMs` (graphile-liveness.ts).
 * - **Stop**: handlers' signals abort at once; what has not finished after `graceMs` is unlocked for
 *   others, and attempts cut short by the stop are not counted.
 */
export function createGraphileJobs(options: GraphileJobsOptions): Jobs {
  const { log } = options;
  const lanes = new Map<string, Lane>();
  const runners = new Map<string, Runner>();
  const poolIds = new Set<string>();
  const running = new Map<string, AbortController>();
  const interrupted = new Set<string>();
  let pool: pg.Pool | undefined;
  let migrated: Promise<void> | undefined;
  let liveness: Liveness | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let started = false;
  let stopping = false;

  const logger = new GraphileLogger(() => (level, message, meta) => {
    // graphile-worker reports every completed job at "info": that is debug detail here.
    const method = level === "error" ? "error" : level === "warning" ? "warn" : "debug";
    log[method]({ component: "graphile-worker", ...meta }, message);
  });

  const getPool = (): pg.Pool => {
    if (!pool) {
      pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize ?? 20 });
      pool.on("error", (err) => log.warn({ err }, "idle job connection failed; the pool replaces it"));
      // A checked-out client's error is emitted on the client; unheard, Node would end the process.
      pool.on("connect", (client) => client.on("error", (err) => log.warn({ err }, "job connection failed")));
    }
    return pool;
  };
  const ready = (): Promise<void> => {
    migrated ??= runMigrations({ pgPool: getPool(), logger }).catch((error: unknown) => {
      migrated = undefined;
      throw error;
    });
    return migrated;
  };

  const wrap =
    (kind: string, lane: Lane) =>
    async (payload: unknown, helpers: JobHelpers): Promise<void> => {
      const id = String(helpers.job.id);
      const controller = new AbortController();
      const onAbort = () => controller.abort(new Error("the worker is stopping"));
      helpers.abortSignal.addEventListener("abort", onAbort, { once: true });
      running.set(id, controller);
      const context: JobContext = {
        id,
        kind,
        attempt: helpers.job.attempts,
        signal: controller.signal,
        log: log.child({ jobId: id, kind }),
      };
      try {
        await lane.handler(payload, context);
      } catch (error) {
        if (stopping && controller.signal.aborted) interrupted.add(id);
        else context.log.warn({ err: error, attempt: context.attempt, maxAttempts: helpers.job.max_attempts }, "job failed");
        throw error;
      } finally {
        helpers.abortSignal.removeEventListener("abort", onAbort);
        running.delete(id);
      }
    };

  const startLane = async (kind: string, lane: Lane): Promise<void> => {
    const events: WorkerEvents = new EventEmitter();
    events.on("pool:create", ({ workerPool }: { workerPool: { id: string } }) => {
      poolIds.add(workerPool.id);
      liveness?.hold(workerPool.id).catch((err: unknown) => log.error({ err }, "could not take the job liveness lock"));
    });
    const runner = await run({
      pgPool: getPool(),
      concurrency: lane.concurrency,
      taskList: { [kind]: wrap(kind, lane) as never },
      noHandleSignals: true,
      pollInterval: options.pollMs ?? 1000,
      logger,
      events,
      gracefulShutdownAbortTimeout: 0,
    });
    runners.set(kind, runner);
    runner.promise.catch((err: unknown) => log.error({ err, kind }, "job runner stopped with an error"));
  };

  const sweep = async (): Promise<void> => {
    const dead = await sweepDeadPools(getPool(), options.deadGraceMs ?? 30_000, poolIds);
    if (dead.length > 0) log.warn({ pools: dead }, "jobs of dead worker processes released");
  };

  return {
    async add<P>(spec: JobSpec<P>): Promise<string> {
      await ready();
      return addJob(getPool(), { ...spec, maxAttempts: spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS });
    },
    notify() {
      // graphile-worker's add_job announces new jobs with NOTIFY; nothing to do.
    },
    handle<P>(kind: string, handler: JobHandler<P>, opts?: { concurrency?: number }) {
      const lane = { handler: handler as JobHandler, concurrency: opts?.concurrency ?? DEFAULT_CONCURRENCY };
      lanes.set(kind, lane);
      if (started && !runners.has(kind))
        startLane(kind, lane).catch((err: unknown) => log.error({ err, kind }, "could not start a job runner"));
    },
    async start() {
      if (started) return;
      started = true;
      stopping = false;
      await ready();
      liveness = new Liveness(options.connectionString, log);
      for (const [kind, lane] of lanes) await startLane(kind, lane);
      await sweep().catch((err: unknown) => log.warn({ err }, "could not sweep dead workers' jobs"));
      sweepTimer = setInterval(() => {
        sweep().catch((err: unknown) => log.warn({ err }, "could not sweep dead workers' jobs"));
      }, options.sweepMs ?? 15_000);
      sweepTimer.unref();
    },
    async stop(graceMs = 10_000) {
      stopping = true;
      clearInterval(sweepTimer);
      for (const controller of running.values()) controller.abort(new Error("the worker is stopping"));
      const stopped = Promise.allSettled([...runners.values()].map((r) => r.stop()));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        stopped.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (pool) {
        // Handlers that ignored their signal: their jobs go back for another process now.
        if (timedOut) await pool.query("select graphile_worker.force_unlock_workers($1::text[])", [[...poolIds]]);
        await refundAttempts(pool, [...interrupted], [...poolIds]).catch((err: unknown) =>
          log.warn({ err }, "could not refund interrupted attempts"),
        );
      }
      await liveness?.close();
      runners.clear();
      poolIds.clear();
      interrupted.clear();
      started = false;
      const ending = pool;
      pool = undefined;
      migrated = undefined;
      if (timedOut) void stopped.finally(() => ending?.end().catch(() => undefined));
      else await ending?.end().catch(() => undefined);
    },
    async drain() {
      for (;;) {
        if (running.size === 0 && !(await busy(getPool(), [...lanes.keys()]))) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stats(): Promise<JobStats> {
      await ready();
      return jobStats(getPool());
    },
    async dead(limit = 50): Promise<DeadJob[]> {
      await ready();
      return deadJobs(getPool(), limit);
    },
    async retry(id: string): Promise<boolean> {
      await ready();
      return retryDead(getPool(), id);
    },
  };
}
