import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { immediate } from "../../../src/store/db.js";
import { dialectOf, isUniqueViolation, lockRows, nullsFirst } from "../../../src/store/dialect.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { backends } from "../../support/backends.js";

/** What src/store/dialect.ts promises: the same behaviour from the same code on both engines. */
describe.each(backends())("store dialect on $name", (backend) => {
  it("keeps 64-bit integers (GitHub ids past 2^31) and returns counts and ids as numbers", async () => {
    const { db } = await backend.fresh();
    expect(dialectOf(db)).toBe(backend.name);
    const repo = await upsertRepository(db, { fullName: "o/r", installationId: 3_000_000_001 });
    expect(repo).toMatchObject({ id: 1, installation_id: 3_000_000_001 });
    const { rows } = await sql<{ n: unknown }>`select count(*) as n from repositories`.execute(db);
    expect(rows[0]?.n).toBe(1);
    const second = await upsertRepository(db, { fullName: "o/s" });
    expect(second.id).toBe(2);
  });

  it("serialises read-then-write transactions: concurrent increments lose nothing, even from two connections", async () => {
    const store = await backend.fresh();
    const repo = await upsertRepository(store.db, { fullName: "o/r", installationId: 0 });
    // SQLite's locks would block the event loop between two handles of one process: one handle there.
    const other = backend.name === "postgres" ? await store.reopen() : store.db;
    const increment = (db: typeof store.db) =>
      immediate(db, async (trx) => {
        const row = await trx.selectFrom("repositories").select("installation_id").where("id", "=", repo.id).executeTakeFirstOrThrow();
        await new Promise((resolve) => setTimeout(resolve, 2));
        await trx
          .updateTable("repositories")
          .set({ installation_id: (row.installation_id ?? 0) + 1 })
          .where("id", "=", repo.id)
          .execute();
      });
    await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 === 0 ? store.db : other)));
    const row = await store.db.selectFrom("repositories").select("installation_id").where("id", "=", repo.id).executeTakeFirstOrThrow();
    expect(row.installation_id).toBe(20);
  });

  if (backend.name === "postgres") {
    it("re-runs a read-then-write transaction that a plain writer raced, so neither write is lost", async () => {
      const store = await backend.fresh();
      const other = await store.reopen();
      const repo = await upsertRepository(store.db, { fullName: "o/r", installationId: 0 });
      let runs = 0;
      await immediate(store.db, async (trx) => {
        runs++;
        const row = await trx.selectFrom("repositories").select("installation_id").where("id", "=", repo.id).executeTakeFirstOrThrow();
        if (runs === 1) {
          await other
            .updateTable("repositories")
            .set((eb) => ({ installation_id: eb("installation_id", "+", 100) }))
            .where("id", "=", repo.id)
            .execute();
        }
        await trx
          .updateTable("repositories")
          .set({ installation_id: (row.installation_id ?? 0) + 1 })
          .where("id", "=", repo.id)
          .execute();
      });
      expect(runs).toBe(2);
      const row = await store.db.selectFrom("repositories").select("installation_id").where("id", "=", repo.id).executeTakeFirstOrThrow();
      expect(row.installation_id).toBe(101);
    });
  }

  it("recognises a unique violation, orders NULLs first, and locks rows where the engine has row locks", async () => {
    const { db } = await backend.fresh();
    await upsertRepository(db, { fullName: "o/a", installationId: 2 });
    await upsertRepository(db, { fullName: "o/b" });
    await upsertRepository(db, { fullName: "o/c", installationId: 1 });
    const error = await db
      .insertInto("repositories")
      .values({ full_name: "o/a", default_branch: "main", created_at: "x", updated_at: "x" })
      .execute()
      .catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    expect(isUniqueViolation(new Error("other"))).toBe(false);
    const ordered = await db.selectFrom("repositories").select("full_name").orderBy(nullsFirst("installation_id")).execute();
    expect(ordered.map((r) => r.full_name)).toEqual(["o/b", "o/c", "o/a"]);
    const locked = await immediate(db, (trx) => lockRows(trx, trx.selectFrom("repositories").select("full_name").orderBy("id")).execute());
    expect(locked).toHaveLength(3);
    expect(lockRows(db, db.selectFrom("repositories").selectAll()).compile().sql.endsWith("for update skip locked")).toBe(
      backend.name === "postgres",
    );
  });
});
