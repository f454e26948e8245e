import { rankBacklogTop, streamBacklog } from "../prioritizer/index.js";
import { type Db, rawSqlite } from "../store/db.js";
import { listOpenFindings, withoutDashboardIssues } from "../store/findings.js";
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
 * What the ranking and the output read: every column but `body` (the largest, read by neither)
 * and `resolved_at`/`dismissed_at` (null in every open finding).
 */
const COLUMNS =
  "id, repository_id, fingerprint, kind, title, path, line, url, issue_number, signals, first_seen_at, last_seen_at, last_task_outcome, last_task_hash, dismissed_by";

type Values = [
  number,
  number,
  string,
  FindingRow["kind"],
  string,
  string | null,
  number | null,
  string | null,
  number | null,
  string,
  string,
  string,
  string | null,
  string | null,
  string | null,
];

/**
 * The open findings to rank: on SQLite straight from a prepared statement, each row read as an
 * array (`raw`) and made into one object here — better-sqlite3's own row objects, and Kysely's
 * mapping on top, took most of the time and memory at 100,000 rows (bench/cli-startup.ts);
 * elsewhere through the store. `body` is left null.
 */
async function openRows(db: Db, repositoryId?: number): Promise<FindingRow[]> {
  const sqlite = rawSqlite(db);
  if (!sqlite) return listOpenFindings(db, repositoryId);
  const where = repositoryId === undefined ? "" : "and repository_id = ?";
  const statement = sqlite
    .prepare(`select ${COLUMNS} from findings where resolved_at is null and dismissed_at is null ${where} order by id`)
    .raw(true);
  const rows: FindingRow[] = [];
  // A scan stamps its findings with one time: equal neighbours share one string instead of 100,000 copies.
  let firstSeen = "";
  let lastSeen = "";
  for (const v of (repositoryId === undefined ? statement.iterate() : statement.iterate(repositoryId)) as Iterable<Values>) {
    if (v[10] !== firstSeen) firstSeen = v[10];
    if (v[11] !== lastSeen) lastSeen = v[11];
    rows.push({
      id: v[0],
      repository_id: v[1],
      fingerprint: v[2],
      kind: v[3],
      title: v[4],
      body: null,
      path: v[5],
      line: v[6],
      url: v[7],
      issue_number: v[8],
      signals: v[9],
      first_seen_at: firstSeen,
      last_seen_at: lastSeen,
      resolved_at: null,
      dismissed_at: null,
      last_task_outcome: v[12],
      last_task_hash: v[13],
      dismissed_by: v[14],
    });
  }
  return rows;
}

/**
 * Prints the ranked backlog to stdout: a table of the first `limit` rows (chosen without sorting
 * the rest), or every row as streamed JSON (`writeJson`), each row's breakdown built as it is
 * written. Returns the number of rows in the whole backlog.
 */
export async function printBacklog(db: Db, options: PrintOptions): Promise<number> {
  const repositories = await listRepositories(db);
  const names = new Map(repositories.map((r) => [r.id, r.full_name]));
  const now = new Date();
  // One repository ranks as on its dashboard (rankingOptionsFor); imported on demand: its config validation loads zod and YAML.
  const ranking =
    options.repositoryId === undefined
      ? {}
      : await (await import("../scheduler/ranked-backlog.js")).rankingOptionsFor(db, options.repositoryId);
  const rows = withoutDashboardIssues(await openRows(db, options.repositoryId), repositories);
  // The stored rows are passed, never kept here: the stream lets each go once it is written.
  if (options.json) {
    const backlog = streamBacklog(rows, now, ranking);
    await writeJson(backlog.rows, names, process.stdout);
    return backlog.total;
  }
  const top = rankBacklogTop(rows, now, options.limit, ranking);
  console.log(formatTable(top.rows, names, top.total));
  return top.total;
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
