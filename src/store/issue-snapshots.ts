import type { Db } from "./db.js";
import { cacheDb } from "./http-cache.js";

/** One open issue as the scanners see it. Times are ISO 8601. */
export interface IssueSnapshot {
  number: number;
  title: string;
  url: string;
  author: string | null;
  createdAt: string;
  updatedAt: string;
  labels: string[];
  assignees: string[];
  /** Milestone title, or null. */
  milestone: string | null;
  /** Total reactions. */
  reactions: number;
  comments: number;
}

/** Rows per multi-row INSERT: 12 columns x 500 rows stays below SQLite's bound-parameter limit. */
const BATCH = 500;

/**
 * Applies a listing to a repository's snapshot in one transaction: `open` issues are inserted or
 * replaced, `closed` numbers removed. With `replaceAll`, issues missing from `open` are removed too
 * (a full listing also catches issues deleted or transferred, which `since` never reports).
 */
export async function applyIssueListing(
  db: Db,
  repositoryId: number,
  listing: { open: IssueSnapshot[]; closed: number[]; replaceAll: boolean },
): Promise<void> {
  await cacheDb(db)
    .transaction()
    .execute(async (trx) => {
      if (listing.replaceAll) await trx.deleteFrom("issue_snapshots").where("repository_id", "=", repositoryId).execute();
      for (let i = 0; i < listing.closed.length; i += BATCH) {
        await trx
          .deleteFrom("issue_snapshots")
          .where("repository_id", "=", repositoryId)
          .where("number", "in", listing.closed.slice(i, i + BATCH))
          .execute();
      }
      for (let i = 0; i < listing.open.length; i += BATCH) {
        const values = listing.open.slice(i, i + BATCH).map((s) => ({
          repository_id: repositoryId,
          number: s.number,
          title: s.title,
          url: s.url,
          author: s.author,
          created_at: s.createdAt,
          updated_at: s.updatedAt,
          labels: JSON.stringify(s.labels),
          assignees: JSON.stringify(s.assignees),
          milestone: s.milestone,
          reactions: s.reactions,
          comments: s.comments,
        }));
        await trx
          .insertInto("issue_snapshots")
          .values(values)
          .onConflict((oc) =>
            oc.columns(["repository_id", "number"]).doUpdateSet((eb) => ({
              title: eb.ref("excluded.title"),
              url: eb.ref("excluded.url"),
              author: eb.ref("excluded.author"),
              created_at: eb.ref("excluded.created_at"),
              updated_at: eb.ref("excluded.updated_at"),
              labels: eb.ref("excluded.labels"),
              assignees: eb.ref("excluded.assignees"),
              milestone: eb.ref("excluded.milestone"),
              reactions: eb.ref("excluded.reactions"),
              comments: eb.ref("excluded.comments"),
            })),
          )
          .execute();
      }
    });
}

/** The open issues of a repository as last listed, by number. */
export async function listIssueSnapshots(db: Db, repositoryId: number): Promise<IssueSnapshot[]> {
  const rows = await cacheDb(db)
    .selectFrom("issue_snapshots")
    .selectAll()
    .where("repository_id", "=", repositoryId)
    .orderBy("number")
    .execute();
  return rows.map((r) => ({
    number: r.number,
    title: r.title,
    url: r.url,
    author: r.author,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    labels: JSON.parse(r.labels) as string[],
    assignees: JSON.parse(r.assignees) as string[],
    milestone: r.milestone,
    reactions: r.reactions,
    comments: r.comments,
  }));
}
