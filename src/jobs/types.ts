import type { Logger } from "../util/logger.js";

/**
 * The jobs port: every piece of I/O after the webhook answer runs as a job (DESIGN.md, "The loop").
 *
 * Contract, kept small so that a second backend (PostgreSQL + graphile-worker) fits behind it:
 * - **At-least-once.** A job runs until its handler resolves once. A crash, a lost lease or a thrown
 *   error runs it again, so every handler must be idempotent (check what is already done first).
 * - **Retries** use exponential backoff with jitter: attempt n waits `min(2^n s, 1 h) × (0.5 … 1.5)`.
 *   A job that has used `maxAttempts` attempts is kept as **dead** with its last error, visible to
 *   the operator (`backlog-bot jobs`), and can be retried by hand.
 * - **Dedupe.** While a job with the same `key` is pending (waiting or running), adding another is a
 *   no-op that returns the existing job's id.
 * - **Queues.** Jobs that name the same `queue` run one at a time, in order of `runAt` then id.
 */
export interface JobSpec<P = unknown> {
  /** Which handler runs it, e.g. `delivery`, `task.run`, `reply`. */
  kind: string;
  /** JSON-serialisable input of the handler. */
  payload: P;
  /** Earliest start; default now. */
  runAt?: Date;
  /** Dedupe key (see the contract). */
  key?: string;
  /** Attempts before the job is dead; default 8. */
  maxAttempts?: number;
  /** Serialisation queue name, e.g. `repo:42`. */
  queue?: string;
}

/** What a handler is given besides its payload. */
export interface JobContext {
  /** The job's id, as a string on both backends. */
  id: string;
  kind: string;
  /** 1 on the first attempt. */
  attempt: number;
  /** Aborts when the worker stops or loses the job's lease: stop at the next safe point. */
  signal: AbortSignal;
  /** Child logger with `jobId` and `kind`. */
  log: Logger;
}

/** A job handler; a rejection schedules a retry (or ends the job dead). */
export type JobHandler<P = unknown> = (payload: P, context: JobContext) => Promise<void>;

/** A job that used all its attempts. */
export interface DeadJob {
  id: string;
  kind: string;
  payload: unknown;
  attempts: number;
  lastError: string | null;
  failedAt: string;
}

/** Counts for `/ready`, `/metrics` and the CLI. */
export interface JobStats {
  /** Waiting, due or not. */
  pending: number;
  running: number;
  dead: number;
  /** Age (ms) of the oldest job that is due and not running; 0 when none. */
  oldestDueMs: number;
}

/** A backend of the jobs port. */
export interface Jobs {
  /**
   * Adds a job; returns its id (the pending twin's id when `key` dedupes it).
   * @throws when the store cannot be written (the caller's own request then fails).
   */
  add<P>(spec: JobSpec<P>): Promise<string>;
  /** Tells this process's worker that jobs were written to the store by other means (the inbox's one-transaction intake); a no-op where the backend is notified by itself. */
  notify(): void;
  /** Registers the handler of a kind, with how many of that kind may run at once in this process (default 4). */
  handle<P>(kind: string, handler: JobHandler<P>, options?: { concurrency?: number }): void;
  /** Starts taking jobs (worker role). Jobs added before are kept until then. */
  start(): Promise<void>;
  /** Stops taking jobs, aborts running handlers' signals, waits up to `graceMs` (default 10 s) for them, and releases what is left for a retry. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves when no job of a handled kind is due, running or waiting for a retry (tests, CLI). */
  drain(): Promise<void>;
  stats(): Promise<JobStats>;
  /** Dead jobs, newest first. */
  dead(limit?: number): Promise<DeadJob[]>;
  /** Puts a dead job back to run now with fresh attempts; false when it is not dead. */
  retry(id: string): Promise<boolean>;
}
