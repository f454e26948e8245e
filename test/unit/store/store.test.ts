import path from "node:path";
import Database from "better-sqlite3";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { DATABASE_FILE, openDb } from "../../../src/store/db.js";
import { backends } from "../../support/backends.js";

describe.each(backends())("store on $name", (backend) => {
  const fresh = () => backend.fresh();

  it("creates the tables (SQLite: with WAL), and reopening runs nothing twice", async () => {
    const store = await fresh();
    await store.db.destroy();
    const again = await store.reopen();
    const tables = (await again.introspection.getTables({ withInternalKyselyTables: true })).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(["deliveries", "findings", "repositories", "runs", "tasks", "kysely_migration"]));
    const migrations = await sql<{ name: string }>`select name from kysely_migration`.execute(again);
    expect(new Set(migrations.rows.map((m) => m.name)).size).toBe(migrations.rows.length);
    if (backend.name === "sqlite") {
      const raw = new Database(path.join(store.dataDir, DATABASE_FILE), { readonly: true });
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
      raw.close();
    }
  });

  it("refuses a database written by a newer version, with a message saying what to do", async () => {
    const store = await fresh();
    await sql`insert into kysely_migration (name, timestamp) values (${"9999-from-the-future"}, ${new Date().toISOString()})`.execute(
      store.db,
    );
    await expect(openDb(store.dataDir, { databaseUrl: store.databaseUrl })).rejects.toMatchObject({
      code: "STORE_TOO_NEW",
      message: expect.stringMatching(/newer backlog-bot.*9999-from-the-future.*Upgrade/),
    });
  });
});
