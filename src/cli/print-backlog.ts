import { rankBacklog } from "../prioritizer/index.js";
import { type Db, rawSqlite } from "../store/db.js";
import { listOpenFindings } from "../store/findings.js";
import { listRepositories } from "../store/repositories.js";
import type { FindingRow } from "../store/schema.js";
import { UsageError } from "./command.js";
import { formatTable, writeJson } from "./format.js";

/** How to print the backlog. */
export interface PrintOptions {
  /** Only this repository's findings; absent = all. */
  repositoryId?: number;
  json: boolean;
  /** Table rows (ignored with `json`). */
  limit: number;
}

/**
 * The open findings to rank: on SQLite straight from a prepared statement (Kysely's row mapping
 * doubled the time at 100,000 rows), without `body`, which neither the ranking nor the output
 * reads (it is the largest column); elsewhere through the store.
 */
async function openRows(db: Db, repositoryId?: number): Promise<FindingRow[]> {
  const sqlite = rawSqlite(db);
  if (!sqlite) return listOpenFindings(db, repositoryId);
  const where = repositoryId === undefined ? "" : "and repository_id = ?";
  const statement = sqlite.prepare(`select * from findings where resolved_at is null and dismissed_at is null ${where} order by id`);
  const rows = (repositoryId === undefined ? statement.all() : statement.all(repositoryId)) as FindingRow[];
  for (const row of rows) row.body = null;
  return rows;
}

/**
 * Prints the ranked backlog to stdout: a table of the first `limit` rows, or every row as
 * streamed JSON (`writeJson`). Returns the number of rows in the whole backlog.
 */
export async function printBacklog(db: Db, options: PrintOptions): Promise<number> {
  const names = new Map((await listRepositories(db)).map((r) => [r.id, r.full_name]));
  // No variable keeps the rows: the ranking copies what it needs, and the rows can be collected while the JSON streams.
  const ranked = rankBacklog(await openRows(db, options.repositoryId), new Date());
  if (options.json) await writeJson(ranked, names, process.stdout);
  else console.log(formatTable(ranked.slice(0, options.limit), names, ranked.length));
  return ranked.length;
}

/**
 * The `--limit` value as a positive row count.
 * @throws Error (a usage error) when it is not a positive integer.
 */
export function parseLimit(value: string | undefined, fallback = 50): number {
  if (value === undefined) return fallback;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, got "${value}"`);
  return limit;
}
