import path from "node:path";
import Database from "better-sqlite3";
import { Migrator, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { attributionStore } from "../../../src/store/attribution.js";
import { DATABASE_FILE, openDb } from "../../../src/store/db.js";
import { migrations } from "../../../src/store/migrations/index.js";
import { upsertRepository } from "../../../src/store/repositories.js";
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

  it("drops the scan cache written before findings were stored (0009), then stores and reads versions in the new shape", async () => {
    const store = await fresh();
    const migrator = new Migrator({ db: store.db, provider: { getMigrations: async () => migrations } });
    expect((await migrator.migrateTo("0008-git-attributes")).error).toBeUndefined();
    const { id } = await upsertRepository(store.db, { fullName: "octo/old-cache" });
    const at = new Date().toISOString();
    await sql`insert into attribution_versions (repository_id, settings, path, blob, hits, authors, created_at)
      values (${id}, ${"k"}, ${"a.ts"}, ${"b1"}, ${'[{"line":1,"marker":"TODO","text":"x"}]'}, ${"[]"}, ${at})`.execute(store.db);
    await sql`insert into attribution_scans (repository_id, settings, commit_id, files, dirty, scanned_at)
      values (${id}, ${"k"}, ${"c1"}, ${'[["a.ts","b1"]]'}, ${"[]"}, ${at})`.execute(store.db);
    await store.db.destroy();

    const db = await store.reopen();
    const cache = attributionStore(db, id);
    expect(await cache.lastScan("k")).toBeUndefined(); // the next scan is a cold one
    expect(await cache.getFindings("k", [{ path: "a.ts", blob: "b1" }])).toEqual([]);
    const finding = { kind: "todo" as const, fingerprint: "f1", title: "x", path: "a.ts", line: 1, signals: { marker: "TODO" } };
    const authors = new Map([[1, { commit: "c1", author: "Ada", authoredAt: "2024-01-01T00:00:00.000Z" }]]);
    await cache.save("k", [{ path: "a.ts", blob: "b2", findings: [finding], authors }], {
      commit: "c2",
      files: [{ path: "a.ts", blob: "b2" }],
    });
    const key = [{ path: "a.ts", blob: "b2" }];
    expect(await cache.getFindings("k", key)).toEqual([{ ...key[0], findings: [finding] }]);
    expect(await cache.getAuthors("k", key)).toEqual([{ ...key[0], authors }]);
  });

  it("reads stored versions by key, whether few (looked up by path) or many (every row of the settings, filtered)", async () => {
    const store = await fresh();
    const { id } = await upsertRepository(store.db, { fullName: "octo/many" });
    const cache = attributionStore(store.db, id);
    const version = (i: number, blob: string) => ({
      path: `src/f${i}.ts`,
      blob,
      findings: [{ kind: "todo" as const, fingerprint: `${i}${blob}`, title: `t${i}`, path: `src/f${i}.ts`, line: 1, signals: {} }],
      authors: new Map([[1, { commit: blob, author: "Ada", authoredAt: "2024-01-01T00:00:00.000Z" }]]),
    });
    // Two versions of every path (a push stored the second), and another settings' copy of the first.
    await cache.save("k", [
      ...Array.from({ length: 150 }, (_, i) => version(i, "old")),
      ...Array.from({ length: 150 }, (_, i) => version(i, "new")),
    ]);
    await cache.save("other", [version(0, "old")]);
    const keys = (n: number, blob: string) => Array.from({ length: n }, (_, i) => ({ path: `src/f${i}.ts`, blob }));
    const fingerprints = (list: { findings: { fingerprint: string }[] }[]) => list.map((v) => v.findings[0]?.fingerprint).sort();

    const many = await cache.getFindings("k", [...keys(120, "new"), { path: "src/gone.ts", blob: "new" }]);
    expect(fingerprints(many)).toEqual(
      keys(120, "new")
        .map((_, i) => `${i}new`)
        .sort(),
    );
    const few = await cache.getFindings("k", keys(3, "old"));
    expect(fingerprints(few)).toEqual(["0old", "1old", "2old"]);
    const authors = await cache.getAuthors("k", [...keys(2, "old"), ...keys(120, "new").slice(2)]);
    expect(authors.map((v) => `${v.path} ${v.authors.get(1)?.commit}`).sort()).toEqual(
      keys(120, "new")
        .map((k, i) => `${k.path} ${i < 2 ? "old" : "new"}`)
        .sort(),
    );
    expect(await cache.getFindings("other", keys(120, "new"))).toEqual([]);
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
