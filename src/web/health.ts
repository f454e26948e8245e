import { sql } from "kysely";
import type { Db } from "../store/db.js";
import { migrations } from "../store/migrations/index.js";

/** One named readiness check: resolves when healthy, rejects with the reason otherwise. */
export type ReadyCheck = () => Promise<void>;

/** Result of one check in the `/ready` body. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** Why it failed (the error's message). */
  error?: string;
  /** How long the check took (ms). */
  ms: number;
}

/** How long (ms) one check may take before it counts as failed: a hung dependency is not ready. */
export const CHECK_TIMEOUT_MS = 5_000;

/** The store answers a query. */
export function storeCheck(db: Db): ReadyCheck {
  return async () => {
    await sql`select 1`.execute(db);
  };
}

/** Every migration this code knows has been applied (and no unknown one: `openDb` refuses those). */
export function migrationsCheck(db: Db): ReadyCheck {
  return async () => {
    const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
    const done = new Set(applied.rows.map((r) => r.name));
    const missing = Object.keys(migrations).filter((name) => !done.has(name));
    if (missing.length > 0) throw new Error(`migrations not applied: ${missing.join(", ")}`);
  };
}

/**
 * The job queue is draining: the oldest due job has waited less than `maxAgeMs` (default 10 min;
 * a task run takes minutes, so a longer wait means no worker is taking jobs).
 */
export function jobQueueCheck(stats: () => Promise<{ oldestDueMs: number }>, maxAgeMs = 10 * 60_000): ReadyCheck {
  return async () => {
    const { oldestDueMs } = await stats();
    if (oldestDueMs > maxAgeMs)
      throw new Error(`the oldest due job has waited ${Math.round(oldestDueMs / 1000)} s (limit ${maxAgeMs / 1000} s)`);
  };
}

/**
 * GitHub is reachable and accepts the app's credentials: `ping` should make an app-authenticated
 * call such as `GET /app` (`(await probot.auth()).rest.apps.getAuthenticated()`), which fails on
 * a network error, a wrong APP_ID or private key, or a clock skewed past the JWT's lifetime.
 */
export function githubCheck(ping: () => Promise<unknown>): ReadyCheck {
  return async () => {
    await ping();
  };
}

/** Runs every check in parallel, each bounded by `CHECK_TIMEOUT_MS`; ready when all pass. */
export async function runChecks(checks: Record<string, ReadyCheck>): Promise<{ ready: boolean; checks: CheckResult[] }> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<CheckResult> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
          }),
        ]);
        return { name, ok: true, ms: Math.round(performance.now() - started) };
      } catch (error) {
        return {
          name,
          ok: false,
          error: error instanceof Error ? error.message : String(error),
          ms: Math.round(performance.now() - started),
        };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: results.every((r) => r.ok), checks: results };
}
