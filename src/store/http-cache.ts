import type { Kysely } from "kysely";
import { type Db, now } from "./db.js";
import type { Database } from "./schema.js";

/**
 * A stored response validator. The tables of migration 0002 are typed here rather than in `schema.ts`,
 * which describes the first migration.
 */
export interface HttpCacheTable {
  /** What was asked, e.g. `GET https://api.github.com/repos/o/r/issues?...` plus the identity it was asked as. */
  key: string;
  etag: string | null;
  last_modified: string | null;
  /** The response body as JSON, for requests whose 304 must replay it (the config file); null otherwise. */
  body: string | null;
  updated_at: string;
}

/** One open issue of a repository as last listed (see `store/issue-snapshots.ts`). */
export interface IssueSnapshotsTable {
  repository_id: number;
  number: number;
  title: string;
  url: string;
  author: string | null;
  created_at: string;
  updated_at: string;
  /** JSON array of label names. */
  labels: string;
  /** JSON array of logins. */
  assignees: string;
  /** Milestone title. */
  milestone: string | null;
  reactions: number;
  comments: number;
}

/** A repository's named scan position, e.g. `issues.since` (the newest `updated_at` seen). */
export interface ScanCursorsTable {
  repository_id: number;
  name: string;
  value: string;
  updated_at: string;
}

/** The store's tables including those of migration 0002. */
export type CacheDatabase = Database & { http_cache: HttpCacheTable; issue_snapshots: IssueSnapshotsTable; scan_cursors: ScanCursorsTable };

/** The same connection, typed with migration 0002's tables. */
export function cacheDb(db: Db): Kysely<CacheDatabase> {
  return db as unknown as Kysely<CacheDatabase>;
}

/** A stored validator (and maybe body) for one request. */
export interface CachedResponse {
  etag: string | null;
  lastModified: string | null;
  body: unknown;
}

/** The validators stored for `key`, if any. */
export async function getCachedResponse(db: Db, key: string): Promise<CachedResponse | undefined> {
  const row = await cacheDb(db).selectFrom("http_cache").selectAll().where("key", "=", key).executeTakeFirst();
  if (!row) return undefined;
  return { etag: row.etag, lastModified: row.last_modified, body: row.body === null ? undefined : JSON.parse(row.body) };
}

/** Stores (or replaces) the validators of `key`; `body` is kept only when given. */
export async function putCachedResponse(db: Db, key: string, value: CachedResponse): Promise<void> {
  const row = {
    key,
    etag: value.etag,
    last_modified: value.lastModified,
    body: value.body === undefined ? null : JSON.stringify(value.body),
    updated_at: now(),
  };
  await cacheDb(db)
    .insertInto("http_cache")
    .values(row)
    .onConflict((oc) =>
      oc.column("key").doUpdateSet({ etag: row.etag, last_modified: row.last_modified, body: row.body, updated_at: row.updated_at }),
    )
    .execute();
}

/** A repository's named scan cursor (e.g. the `since` watermark of its issue snapshot). */
export async function getCursor(db: Db, repositoryId: number, name: string): Promise<string | undefined> {
  const row = await cacheDb(db)
    .selectFrom("scan_cursors")
    .select("value")
    .where("repository_id", "=", repositoryId)
    .where("name", "=", name)
    .executeTakeFirst();
  return row?.value;
}

/** Sets a repository's named scan cursor. */
export async function setCursor(db: Db, repositoryId: number, name: string, value: string): Promise<void> {
  await cacheDb(db)
    .insertInto("scan_cursors")
    .values({ repository_id: repositoryId, name, value, updated_at: now() })
    .onConflict((oc) => oc.columns(["repository_id", "name"]).doUpdateSet({ value, updated_at: now() }))
    .execute();
}
