import { mkdirSync } from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, type Migration, type MigrationProvider, Migrator, PostgresDialect, SqliteAdapter, SqliteDialect, sql } from "kysely";
import type pg from "pg";
import { BacklogBotError } from "../util/errors.js";
import { dialectOf, inWriteLock, PostgresSchemaPlugin, tableExists } from "./dialect.js";
import { migrations } from "./migrations/index.js";
import type { Database } from "./schema.js";

/** The store's file name inside the data directory (SQLite). */
export const DATABASE_FILE = "backlog-bot.sqlite";

/** Wait this long (ms) for another process's write lock before SQLite gives up with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

/** Connections per process to PostgreSQL unless told otherwise (pg's own default is 10). */
const DEFAULT_POOL_SIZE = 10;

export type Db = Kysely<Database>;

/** Where the store lives beyond the data directory. */
export interface StoreOptions {
  /** `postgres://…` (or `postgresql://…`): use PostgreSQL instead of `<dataDir>/backlog-bot.sqlite`. */
  databaseUrl?: string;
  /** Most PostgreSQL connections this process opens; default 10. */
  poolSize?: number;
  /** Told about a pooled PostgreSQL connection that fails while idle (the server restarted, say); default ignores it, as the pool replaces it. */
  onPoolError?: (error: Error) => void;
}

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

/** Whether `url` names a PostgreSQL database. */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//.test(url);
}

/**
 * Opens the store and brings its schema to the latest migration: PostgreSQL when
 * `options.databaseUrl` is a `postgres://` URL (`DATABASE_URL`), otherwise (creating if needed)
 * `<dataDir>/backlog-bot.sqlite` with WAL, foreign keys and a busy timeout.
 *
 * @param dataDir - directory for the SQLite file; created if missing. `:memory:` opens a private in-memory database.
 * @throws BacklogBotError `STORE_TOO_NEW` when the database was migrated by a newer backlog-bot;
 *   `INVALID_SETTINGS` for a `databaseUrl` that is not `postgres://`; pg's error when PostgreSQL cannot be reached.
 */
export async function openDb(dataDir: string, options: StoreOptions = {}): Promise<Db> {
  let db: Db;
  let where: string;
  if (options.databaseUrl) {
    if (!isPostgresUrl(options.databaseUrl)) {
      throw new BacklogBotError(
        "INVALID_SETTINGS",
        "DATABASE_URL must start with postgres:// (unset it to use SQLite in the data directory).",
      );
    }
    db = await openPostgres(options);
    where = redactUrl(options.databaseUrl);
  } else {
    where = ":memory:";
    if (dataDir !== ":memory:") {
      // Private (0700): it holds the store, and beside it mirrors of private code and agents' transcripts.
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      where = path.join(dataDir, DATABASE_FILE);
    }
    db = openSqlite(where);
  }
  try {
    await migrate(db, where);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

/** The better-sqlite3 handle behind each SQLite store, for the few hot paths that use prepared statements. */
const sqliteHandles = new WeakMap<Db, SQLite.Database>();

/** The better-sqlite3 handle of a SQLite store; undefined on PostgreSQL. */
export function rawSqlite(db: Db): SQLite.Database | undefined {
  return sqliteHandles.get(db);
}

function openSqlite(file: string): Db {
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma("synchronous = NORMAL");
  const db = new Kysely<Database>({ dialect: new TransactionalSqliteDialect({ database: sqlite }) });
  sqliteHandles.set(db, sqlite);
  return db;
}

/** Imported on first use: a SQLite store (and every local CLI command) never loads pg (about 40 ms). */
async function openPostgres(options: StoreOptions): Promise<Db> {
  const { default: pg } = await import("pg");
  /** `bigint` (OID 20: ids, `count(*)`) as a JS number, as better-sqlite3 returns integers; GitHub ids and counts stay far below 2^53. */
  const types = {
    getTypeParser: ((oid: number, format?: "text" | "binary") =>
      oid === pg.types.builtins.INT8
        ? (value: string) => Number(value)
        : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? DEFAULT_POOL_SIZE, types });
  // An idle client's error is emitted on the pool; unheard, Node would end the process.
  pool.on("error", (error) => options.onPoolError?.(error));
  pool.on("connect", (client) => client.on("error", (error) => options.onPoolError?.(error)));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new PostgresSchemaPlugin()] });
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}

async function migrate(db: Db, where: string): Promise<void> {
  const known = new Set(Object.keys(migrations));
  if (await tableExists(db, "kysely_migration")) {
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
    const unknown = applied.rows.map((r) => r.name).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      const elsewhere =
        dialectOf(db) === "postgres" ? "point DATABASE_URL at another database" : "set BACKLOG_BOT_DATA_DIR to another directory";
      throw new BacklogBotError(
        "STORE_TOO_NEW",
        `${where} was written by a newer backlog-bot (it has migration ${unknown.join(", ")}, which this version does not know). Upgrade backlog-bot, or ${elsewhere}.`,
      );
    }
  }
  const { error } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw error;
}

/**
 * Runs `fn` in a transaction that holds the store's write lock from the start, for writes that
 * read first: two processes can then never both read the same "free" row and both claim it.
 * SQLite: `BEGIN IMMEDIATE`. PostgreSQL: an advisory lock and `repeatable read`, `fn` re-run on a
 * serialization failure (dialect.ts, `inWriteLock`), so `fn` must not act outside the database.
 */
export async function immediate<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.connection().execute((conn) => inWriteLock(conn, () => fn(conn)));
}

/** Now, as the store writes times. */
export function now(): string {
  return new Date().toISOString();
}
