import { sql } from "kysely";
import { BacklogBotError } from "../util/errors.js";
import type { Db } from "./db.js";
import { dialectOf, tableExists } from "./dialect.js";

/** Tables that are not state to move: Kysely's bookkeeping, and the SQLite-only jobs table (its pending jobs move through the jobs port). */
const SKIPPED = new Set(["kysely_migration", "kysely_migration_lock", "jobs"]);

/** PostgreSQL takes at most 65,535 bound parameters per statement. */
const MAX_PARAMETERS = 60_000;

/** Rows copied, per table. */
export type CopyReport = Record<string, number>;

/**
 * Copies every table of a SQLite store into an empty PostgreSQL store at the same migration, ids
 * kept (and identity sequences moved past them), parents before children, in one PostgreSQL
 * transaction: a failure leaves the target as empty as it was. The source is only read.
 * @throws BacklogBotError `STORE_NOT_EMPTY` when the target already holds rows; `STORE_MISMATCH`
 *   when the two are not at the same migration or the target is not PostgreSQL.
 */
export async function copySqliteToPostgres(from: Db, to: Db): Promise<CopyReport> {
  if (dialectOf(from) !== "sqlite" || dialectOf(to) !== "postgres") {
    throw new BacklogBotError("STORE_MISMATCH", "copying goes from a SQLite store to a PostgreSQL store");
  }
  const migrationsOf = async (db: Db) =>
    (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db)).rows.map((r) => r.name).join(",");
  if ((await migrationsOf(from)) !== (await migrationsOf(to))) {
    throw new BacklogBotError(
      "STORE_MISMATCH",
      "the two stores are at different migrations; open both with this version of backlog-bot first",
    );
  }
  const tables = await tablesInDependencyOrder(from);
  for (const table of tables) {
    if (!(await tableExists(to, table))) throw new BacklogBotError("STORE_MISMATCH", `the PostgreSQL store has no table ${table}`);
    const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(to);
    if (Number(rows[0]?.n) > 0) {
      throw new BacklogBotError(
        "STORE_NOT_EMPTY",
        `the PostgreSQL store already has rows in ${table}; migrate-store only fills an empty store`,
      );
    }
  }
  const report: CopyReport = {};
  await to.transaction().execute(async (trx) => {
    for (const table of tables) {
      const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(from)).rows;
      report[table] = rows.length;
      if (rows.length === 0) continue;
      const batch = Math.max(1, Math.floor(MAX_PARAMETERS / Object.keys(rows[0] ?? {}).length));
      for (let i = 0; i < rows.length; i += batch) {
        // biome-ignore lint/suspicious/noExplicitAny: tables are listed at run time, so Kysely cannot type them.
        await (trx as any)
          .insertInto(table)
          .values(rows.slice(i, i + batch).map(withoutNul))
          .execute();
      }
      if (!("id" in (rows[0] ?? {}))) continue;
      // An identity id column's sequence continues after the ids copied in.
      const seq = await sql<{ seq: string | null }>`select pg_get_serial_sequence(${table}::text, 'id') as seq`.execute(trx);
      const sequence = seq.rows[0]?.seq;
      if (sequence) await sql`select setval(${sequence}::regclass, (select max(id) from ${sql.table(table)})::bigint)`.execute(trx);
    }
  });
  return report;
}

/** PostgreSQL text cannot hold U+0000, which SQLite text can: such characters become U+FFFD. */
function withoutNul(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = typeof value === "string" ? value.replaceAll("\u0000", "\uFFFD") : value;
  return out;
}

/** The store's tables, each after the tables its foreign keys point to. */
async function tablesInDependencyOrder(db: Db): Promise<string[]> {
  const { rows } = await sql<{
    name: string;
  }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db);
  const names = rows.map((r) => r.name).filter((name) => !SKIPPED.has(name));
  const parents = new Map<string, string[]>();
  for (const name of names) {
    const fks = await sql<{ table: string }>`select "table" from pragma_foreign_key_list(${name})`.execute(db);
    parents.set(
      name,
      fks.rows.map((r) => r.table).filter((p) => p !== name),
    );
  }
  const ordered: string[] = [];
  const visit = (name: string, path: Set<string>) => {
    if (ordered.includes(name) || path.has(name)) return;
    path.add(name);
    for (const parent of parents.get(name) ?? []) if (parents.has(parent)) visit(parent, path);
    ordered.push(name);
  };
  for (const name of names) visit(name, new Set());
  return ordered;
}
