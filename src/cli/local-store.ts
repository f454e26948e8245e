import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";

/**
 * The CLI's read-only fast path to the store (issue 14: `backlog --json` start-up). Opening the
 * store the usual way (`withDb`) imports zod for the settings (~45 ms) and Kysely for the store and
 * its Migrator (~85 ms), measured on Node 20 with `performance.now()` around `import()` of the
 * compiled modules; a command that only reads an up-to-date SQLite store needs neither.
 */

/** The store file in the data directory: `DATABASE_FILE` of src/store/db.ts (not imported: that module loads Kysely). */
const DATABASE_FILE = "backlog-bot.sqlite";
/** As src/store/db.ts: wait this long (ms) for another process's write lock. */
const BUSY_TIMEOUT_MS = 5_000;
/** A migration module's file name, `NNNN-name.ts` (or `.js` once compiled): src/store/migrations/index.ts lists one per file. */
const MIGRATION_FILE = /^(\d{4}-[^.]+)\.[jt]s$/;

/**
 * The names of the migrations this build knows, from the files next to src/store/migrations/index.ts
 * (that index imports every migration, and they import Kysely). Sorted as the Migrator runs them.
 */
export function knownMigrations(): string[] {
  const dir = new URL("../store/migrations/", import.meta.url);
  return readdirSync(dir)
    .map((file) => MIGRATION_FILE.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

/**
 * The SQLite store of `env` opened straight with better-sqlite3, when that is sure to be what
 * `withDb` would open and nothing would change: no `DATABASE_URL`, no backlog-bot setting besides
 * `BACKLOG_BOT_DATA_DIR` (so loadSettings, whose defaults are valid, could raise no error that is
 * skipped here), the file exists, and its applied migrations are exactly this build's. Otherwise
 * undefined, and the caller takes the usual path, which migrates, reports a store too new or bad
 * settings, or creates the store. The caller closes the handle.
 */
export function openMigratedSqlite(env: NodeJS.ProcessEnv = process.env): SQLite.Database | undefined {
  if (env.DATABASE_URL) return undefined;
  if (Object.keys(env).some((key) => key.startsWith("BACKLOG_BOT_") && key !== "BACKLOG_BOT_DATA_DIR")) return undefined;
  const dataDir = env.BACKLOG_BOT_DATA_DIR ?? "./data";
  if (dataDir === "" || dataDir === ":memory:") return undefined;
  const file = path.join(path.resolve(dataDir), DATABASE_FILE);
  if (!existsSync(file)) return undefined;
  const sqlite = new SQLite(file, { fileMustExist: true });
  try {
    // As openDb: the store is in WAL mode already (this reads it back); a reader waits for a writer's lock.
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const applied = sqlite.prepare("select name from kysely_migration order by name").pluck().all() as string[];
    const known = knownMigrations();
    if (applied.length === known.length && applied.every((name, i) => name === known[i])) return sqlite;
  } catch {
    // No migration table (or an unreadable file): the usual path creates, migrates or reports it.
  }
  sqlite.close();
  return undefined;
}
