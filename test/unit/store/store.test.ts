import path from "node:path";
import Database from "better-sqlite3";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { DATABASE_FILE, openDb } from "../../../src/store/db.js";
import { finishDelivery, recordDelivery } from "../../../src/store/deliveries.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { claimNextTask, createTask, recoverExpiredTasks, renewLease, transitionTask } from "../../../src/store/tasks.js";
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

  it("recognises a redelivery, but lets a failed delivery be retried", async () => {
    const { db } = await fresh();
    expect(await recordDelivery(db, { id: "d1", event: "issue_comment" })).toBe("new");
    expect(await recordDelivery(db, { id: "d1", event: "issue_comment" })).toBe("duplicate");
    await finishDelivery(db, "d1", "failed", "boom");
    expect(await recordDelivery(db, { id: "d1", event: "issue_comment" })).toBe("new");
    await finishDelivery(db, "d1", "processed");
    expect(await recordDelivery(db, { id: "d1", event: "issue_comment" })).toBe("duplicate");
  });

  it("keeps one open task per issue, and allows a new one once it ended", async () => {
    const { db } = await fresh();
    const repo = await upsertRepository(db, { fullName: "o/r", installationId: 1 });
    const input = { repositoryId: repo.id, issueNumber: 5, title: "t", requestedBy: "m", trigger: "comment" as const };
    const first = await createTask(db, input);
    const second = await createTask(db, input);
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false, task: { id: first.task.id } });
    await transitionTask(db, first.task.id, ["queued"], "cancelled");
    expect((await createTask(db, input)).created).toBe(true);
  });

  it("claims each task once, and requeues a task whose worker died until its attempts run out", async () => {
    const { db } = await fresh();
    const repo = await upsertRepository(db, { fullName: "o/r", installationId: 1 });
    const { task } = await createTask(db, { repositoryId: repo.id, issueNumber: 1, title: "t", requestedBy: "m", trigger: "comment" });
    const [a, b] = await Promise.all([claimNextTask(db, "worker-a", -1), claimNextTask(db, "worker-b", -1)]);
    expect([a?.id, b?.id].filter(Boolean)).toEqual([task.id]);
    expect(a?.attempts ?? b?.attempts).toBe(1);
    // The lease (negative length: already expired) lapses: the worker "died".
    expect(await recoverExpiredTasks(db, 2)).toMatchObject({ requeued: [{ id: task.id, state: "queued" }], failed: [] });
    const retry = await claimNextTask(db, "worker-c", -1);
    expect(retry).toMatchObject({ id: task.id, attempts: 2, lease_owner: "worker-c" });
    expect(await renewLease(db, task.id, "worker-a", 1000)).toBe(false);
    expect(await recoverExpiredTasks(db, 2)).toMatchObject({ requeued: [], failed: [{ id: task.id, state: "failed" }] });
  });
});
