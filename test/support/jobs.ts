import pino from "pino";
import { createGraphileJobs } from "../../src/jobs/graphile.js";
import { createSqliteJobs } from "../../src/jobs/sqlite.js";
import type { Jobs } from "../../src/jobs/types.js";
import type { TestStore } from "./backends.js";

/** A quiet logger for job backends under test. */
export const quiet = pino({ level: "silent" });

/**
 * A jobs backend on a test store: SQLite's on the SQLite file, graphile-worker's on the PostgreSQL
 * database. Short poll intervals so tests do not wait on timers; crash sweeps every 200 ms with a
 * 1-s grace. Stops (grace 1 s) when the caller's test ends if `onEnd` is given.
 */
export function jobsFor(store: TestStore, onEnd?: (fn: () => Promise<void>) => void): Jobs {
  const jobs = store.databaseUrl
    ? createGraphileJobs({ connectionString: store.databaseUrl, log: quiet, pollMs: 100, sweepMs: 200, deadGraceMs: 1000, poolSize: 8 })
    : createSqliteJobs({ db: store.db, log: quiet, pollMs: 20 });
  onEnd?.(() => jobs.stop(1000));
  return jobs;
}
