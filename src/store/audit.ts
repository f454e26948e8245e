import { type Db, now } from "./db.js";
import type { AuditRow } from "./schema.js";

/**
 * One audited act: a write the bot made on GitHub (`comment`, `pull_request`, `push`, `label`,
 * `check_run`, ...) or a command it accepted or refused (`command.fix`, `api.start`, `web.cancel`, ...).
 */
export interface AuditInput {
  /** Who asked: a GitHub login, `api-token`, or `backlog-bot` for the bot's own scheduled acts. */
  actor: string;
  /** What: a short dotted verb, e.g. `comment.create`, `task.start`, `finding.dismiss`. */
  action: string;
  /** Where: `owner/name`, or null for acts outside a repository. */
  repository?: string | null;
  /** On what: `issue#12`, `pr#3`, `task:7`, `finding:40`, a branch name. */
  target?: string | null;
  /** `ok`, `refused`, `failed` or another short word a reader can filter on. */
  outcome: string;
  /** Anything else worth keeping (reason of a refusal, URL of the comment); stored as JSON. */
  detail?: unknown;
}

/** An audit row as read back, `detail` parsed. */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  repository: string | null;
  target: string | null;
  outcome: string;
  detail: unknown;
}

/** Appends one audit row; returns its id. Never throws on a `detail` that JSON cannot hold (it is dropped). */
export async function recordAudit(db: Db, input: AuditInput): Promise<number> {
  let detail: string | null = null;
  try {
    detail = input.detail === undefined ? null : JSON.stringify(input.detail);
  } catch {
    detail = null;
  }
  const row = await db
    .insertInto("audit")
    .values({
      at: now(),
      actor: input.actor,
      action: input.action,
      repository: input.repository ?? null,
      target: input.target ?? null,
      outcome: input.outcome,
      detail,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Filters and keyset paging of `listAudit`. */
export interface AuditQuery {
  /** Only these repositories (an empty list returns nothing: a reader who may see none sees none). */
  repositories?: string[];
  actor?: string;
  action?: string;
  outcome?: string;
  /** Rows older than this id (the previous page's `nextBefore`). */
  before?: number;
  /** Page size, 1..500; default 50. */
  limit?: number;
}

/** Newest-first page of the audit log; `nextBefore` is the cursor of the next page, null at the end. */
export async function listAudit(db: Db, query: AuditQuery = {}): Promise<{ items: AuditEntry[]; nextBefore: number | null }> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
  if (query.repositories && query.repositories.length === 0) return { items: [], nextBefore: null };
  let q = db
    .selectFrom("audit")
    .selectAll()
    .orderBy("id", "desc")
    .limit(limit + 1);
  if (query.repositories) q = q.where("repository", "in", query.repositories);
  if (query.actor) q = q.where("actor", "=", query.actor);
  if (query.action) q = q.where("action", "=", query.action);
  if (query.outcome) q = q.where("outcome", "=", query.outcome);
  if (query.before !== undefined) q = q.where("id", "<", query.before);
  const rows = await q.execute();
  const page = rows.slice(0, limit).map(toEntry);
  return { items: page, nextBefore: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
}

function toEntry(row: AuditRow): AuditEntry {
  let detail: unknown = null;
  if (row.detail) {
    try {
      detail = JSON.parse(row.detail);
    } catch {
      detail = row.detail;
    }
  }
  return { ...row, detail };
}
