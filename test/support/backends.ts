import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { onTestFinished } from "vitest";
import { type Db, openDb } from "../../src/store/db.js";
import { createTestDatabase, postgresTestUrl } from "./postgres.js";

export { createTestDatabase, postgresTestUrl };

/**
 * The store backends a suite runs against (issue 13): SQLite always, PostgreSQL when
 * `DATABASE_URL_TEST` names a server where we may create databases (`.ci/postgres.sh` starts one).
 * Every store handed out is fresh: a new temp directory, and on PostgreSQL a new database, both
 * removed when the test ends.
 *
 * Use: `describe.each(backends())("store on $name", (backend) => { ... await backend.fresh() ... })`.
 */
export type BackendName = "sqlite" | "postgres";

/** One fresh store. */
export interface TestStore {
  backend: BackendName;
  db: Db;
  /** Temp data directory (the SQLite file, mirrors, worktrees). */
  dataDir: string;
  /** Set on PostgreSQL: the fresh database's URL. */
  databaseUrl?: string;
  /** What a child process needs to open the same store (`BACKLOG_BOT_DATA_DIR`, `DATABASE_URL`). */
  env: Record<string, string>;
  /** Opens the same store again (a second process's view, or after `db.destroy()`). */
  reopen(): Promise<Db>;
}

export interface Backend {
  name: BackendName;
  /** A new store; removed when the current test ends (or call `fresh({ cleanup: false })` in hooks and clean up yourself). */
  fresh(options?: { cleanup?: boolean }): Promise<TestStore & { remove(): Promise<void> }>;
}

/** The backends to test: SQLite, and PostgreSQL when `DATABASE_URL_TEST` is set. */
export function backends(): Backend[] {
  const list: Backend[] = [{ name: "sqlite", fresh: (o) => freshStore("sqlite", o) }];
  if (postgresTestUrl) list.push({ name: "postgres", fresh: (o) => freshStore("postgres", o) });
  return list;
}

async function freshStore(backend: BackendName, options: { cleanup?: boolean } = {}): Promise<TestStore & { remove(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `backlog-bot-${backend}-`));
  const database = backend === "postgres" ? await createTestDatabase() : undefined;
  const databaseUrl = database?.url;
  const opened: Db[] = [];
  const open = async () => {
    const db = await openDb(dataDir, { databaseUrl, poolSize: 4 });
    opened.push(db);
    return db;
  };
  const db = await open();
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    for (const each of opened) await each.destroy().catch(() => undefined);
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  if (options.cleanup !== false) onTestFinished(remove);
  return {
    backend,
    db,
    dataDir,
    databaseUrl,
    env: { BACKLOG_BOT_DATA_DIR: dataDir, ...(databaseUrl && { DATABASE_URL: databaseUrl }) },
    reopen: open,
    remove,
  };
}
