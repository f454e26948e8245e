import { rankBacklog } from "../prioritizer/index.js";
import type { Db } from "../store/db.js";
import { listOpenFindings } from "../store/findings.js";
import { listRepositories } from "../store/repositories.js";
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
 * Prints the ranked backlog to stdout: a table of the first `limit` rows, or every row as
 * streamed JSON (`writeJson`). Returns the number of rows in the whole backlog.
 */
export async function printBacklog(db: Db, options: PrintOptions): Promise<number> {
  const [rows, repositories] = await Promise.all([listOpenFindings(db, options.repositoryId), listRepositories(db)]);
  const names = new Map(repositories.map((r) => [r.id, r.full_name]));
  const ranked = rankBacklog(rows, new Date());
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
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit must be a positive integer, got "${value}"`);
  return limit;
}
