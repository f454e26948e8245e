import { mkdirSync } from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, type Migration, type MigrationProvider, Migrator, SqliteAdapter, SqliteDialect, sql } from "kysely";
import { BacklogBotError } from "../util/errors.js";
import { migrations } from "./migrations/index.js";
import type { Database } from "./schema.js";

/** The store's file name inside the data directory. */
export const DATABASE_FILE = "backlog-bot.sqlite";

/** Wait this long (ms) for another process's write lock before SQLite gives up with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

export type Db = Kysely<Database>;

/**
 * SQLite runs DDL inside transactions perfectly well; Kysely's adapter says it does not only to
 * stay conservative. Saying yes makes the Migrator wrap each migration in a transaction, so a
 * crash half-way through a migration leaves the database as it was.
 */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
class TransactionalSqliteDialect extends SqliteDialect {
  override createAdapter(): SqliteAdapter {
    return new TransactionalSqliteAdapter();
  }
}

const provider: MigrationProvider = {
  getMigrations: async (): Promise<Record<string, Migration>> => migrations,
};

/**
 * Opens (creating if needed) `<dataDir>/backlog-bot.sqlite`, sets the pragmas (WAL, foreign keys,
 * busy timeout) and brings the schema to the latest migration.
 *
 * @param dataDir - directory for the database file; created if missing. `:memory:` opens a private in-memory database.
 * @throws BacklogBotError `STORE_TOO_NEW` when the file was migrated by a newer backlog-bot.
 */
export async function openDb(dataDir: string): Promise<Db> {
  let file = ":memory:";
  if (dataDir !== ":memory:") {
    mkdirSync(dataDir, { recursive: true });
    file = path.join(dataDir, DATABASE_FILE);
  }
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma("synchronous = NORMAL");
  const db = new Kysely<Database>({ dialect: new TransactionalSqliteDialect({ database: sqlite }) });
  try {
    await migrate(db, file);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

async function migrate(db: Db, file: string): Promise<void> {
  const known = new Set(Object.keys(migrations));
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (tables.some((t) => t.name === "kysely_migration")) {
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
    const unknown = applied.rows.map((r) => r.name).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new BacklogBotError(
        "STORE_TOO_NEW",
        `${file} was written by a newer backlog-bot (it has migration ${unknown.join(", ")}, which this version does not know). Upgrade backlog-bot, or set BACKLOG_BOT_DATA_DIR to another directory.`,
      );
    }
  }
  const { error } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw error;
}

/**
 * Runs `fn` in a transaction that takes SQLite's write lock at the start (`BEGIN IMMEDIATE`), for
 * writes that read first: two processes can then never both read the same "free" row and both
 * claim it. On PostgreSQL the equivalent is `SELECT ... FOR UPDATE SKIP LOCKED`.
 */
export async function immediate<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn);
      throw error;
    }
  });
}

/** Now, as the store writes times. */
export function now(): string {
  return new Date().toISOString();
}
