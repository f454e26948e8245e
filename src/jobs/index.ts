import type { Db } from "../store/db.js";
import { type DialectName, dialectOf } from "../store/dialect.js";
import { BacklogBotError } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { createGraphileJobs } from "./graphile.js";
import { createSqliteJobs } from "./sqlite.js";
import type { Jobs } from "./types.js";

export { createLeadership, type Leadership } from "./leader.js";
export type { DeadJob, JobContext, JobHandler, JobSpec, JobStats, Jobs } from "./types.js";

/** What any backend may need; each takes its part. */
export interface JobsOptions {
  /** The open store; its dialect picks the backend. */
  db: Db;
  /** The PostgreSQL URL the store was opened with (graphile-worker opens its own pool on it). */
  databaseUrl?: string;
  log: Logger;
}

/** One jobs backend per store dialect (DESIGN.md: a family of adapters is an interface plus a registry map). */
const backends: Record<DialectName, (options: JobsOptions) => Jobs> = {
  sqlite: ({ db, log }) => createSqliteJobs({ db, log }),
  postgres: ({ databaseUrl, log }) => {
    if (!databaseUrl) throw new BacklogBotError("INVALID_SETTINGS", "the PostgreSQL jobs backend needs the store's databaseUrl");
    return createGraphileJobs({ connectionString: databaseUrl, log });
  },
};

/**
 * The jobs backend for the store: the SQLite `jobs` table when the store is SQLite, graphile-worker
 * when it is PostgreSQL (issue 13). Roles: a web process only calls `add()` (never `start()`); a
 * worker process registers handlers and calls `start()`; `all` does both.
 * @throws Error when the store is PostgreSQL and `databaseUrl` is missing.
 */
export function createJobs(options: JobsOptions): Jobs {
  return backends[dialectOf(options.db)](options);
}
