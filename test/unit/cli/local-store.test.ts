import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { knownMigrations, openMigratedSqlite } from "../../../src/cli/local-store.js";
import { openDb, rawSqlite } from "../../../src/store/db.js";
import { migrations } from "../../../src/store/migrations/index.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const cleanup: string[] = [];
afterEach(() => {
  for (const dir of cleanup.splice(0)) removeDir(dir);
});

/** A data directory with a store migrated by `openDb`, as every other command leaves it. */
async function migratedStore(): Promise<string> {
  const dir = makeTempDir();
  cleanup.push(dir);
  await (await openDb(dir)).destroy();
  return dir;
}

describe("openMigratedSqlite (the CLI's read path without Kysely or zod)", () => {
  it("knows exactly the migrations of src/store/migrations/index.ts, in the order they run", () => {
    expect(knownMigrations()).toEqual(Object.keys(migrations));
  });

  it("opens an up-to-date SQLite store, which it reads like the store does", async () => {
    const dir = await migratedStore();
    const sqlite = openMigratedSqlite({ BACKLOG_BOT_DATA_DIR: dir, PATH: "/usr/bin", HOME: dir });
    expect(sqlite).toBeDefined();
    try {
      expect(sqlite?.prepare("select count(*) from findings").pluck().get()).toBe(0);
      expect(sqlite?.pragma("journal_mode", { simple: true })).toBe("wal");
    } finally {
      sqlite?.close();
    }
  });

  it("declines a store with a migration this build does not know, or one not yet applied: the usual path reports or migrates it", async () => {
    const newer = await migratedStore();
    const db = await openDb(newer);
    rawSqlite(db)?.prepare("insert into kysely_migration (name, timestamp) values ('9999-future', '2030-01-01T00:00:00.000Z')").run();
    await db.destroy();
    expect(openMigratedSqlite({ BACKLOG_BOT_DATA_DIR: newer })).toBeUndefined();

    const older = await migratedStore();
    const old = await openDb(older);
    rawSqlite(old)?.prepare("delete from kysely_migration where name = ?").run(Object.keys(migrations).at(-1));
    await old.destroy();
    expect(openMigratedSqlite({ BACKLOG_BOT_DATA_DIR: older })).toBeUndefined();
  });

  it("declines a missing store without creating it, and any environment loadSettings would read or reject", async () => {
    const empty = makeTempDir();
    cleanup.push(empty);
    expect(openMigratedSqlite({ BACKLOG_BOT_DATA_DIR: empty })).toBeUndefined();
    expect(existsSync(path.join(empty, "backlog-bot.sqlite"))).toBe(false);

    const dir = await migratedStore();
    for (const env of [
      { BACKLOG_BOT_DATA_DIR: dir, BACKLOG_BOT_CONCURRENCY: "many" },
      { BACKLOG_BOT_DATA_DIR: dir, DATABASE_URL: "postgres://localhost/x" },
      { BACKLOG_BOT_DATA_DIR: "" },
      { BACKLOG_BOT_DATA_DIR: ":memory:" },
    ]) {
      expect([env, openMigratedSqlite(env)]).toEqual([env, undefined]);
    }
  });
});
