import { Migrator, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { migrations } from "../../../src/store/migrations/index.js";
import { getRepository, isInstallationSuspended, setInstallationSuspended, upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask, unclaimedQueuedTasks } from "../../../src/store/tasks.js";
import { backends } from "../../support/backends.js";

/** Migration 0011: `suspended_at` on `repositories`, set and cleared per installation. */
describe.each(backends())("installation suspension on $name", (backend) => {
  it("adds a null suspended_at to rows written before it, and migrates down and up again", async () => {
    const store = await backend.fresh();
    const migrator = new Migrator({ db: store.db, provider: { getMigrations: async () => migrations } });
    expect((await migrator.migrateTo("0010-github-id")).error).toBeUndefined();
    const at = new Date().toISOString();
    await sql`insert into repositories (full_name, installation_id, default_branch, created_at, updated_at) values (${"octo/old"}, ${5}, ${"main"}, ${at}, ${at})`.execute(
      store.db,
    );
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    expect((await getRepository(store.db, "octo/old"))?.suspended_at).toBeNull();
    expect(await isInstallationSuspended(store.db, 5)).toBe(false);
    expect((await migrator.migrateTo("0010-github-id")).error).toBeUndefined();
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
  });

  it("marks and clears every row of one installation only, keeps the first time, and keeps its queued tasks out of the sweep", async () => {
    const { db } = await backend.fresh();
    const a = await upsertRepository(db, { fullName: "octo/a", installationId: 5 });
    await upsertRepository(db, { fullName: "octo/b", installationId: 5 });
    await upsertRepository(db, { fullName: "other/c", installationId: 6 });
    const { task } = await createTask(db, { repositoryId: a.id, issueNumber: 1, title: "t", requestedBy: "ada", trigger: "comment" });
    await db
      .updateTable("tasks")
      .set({ updated_at: new Date(Date.now() - 60_000).toISOString() })
      .execute();

    const marked = await setInstallationSuspended(db, 5, "2026-01-01T00:00:00Z");
    expect(marked.map((r) => r.full_name).sort()).toEqual(["octo/a", "octo/b"]);
    expect(await setInstallationSuspended(db, 5, "2026-02-01T00:00:00Z")).toEqual([]);
    expect((await getRepository(db, "octo/b"))?.suspended_at).toBe("2026-01-01T00:00:00Z");
    expect((await getRepository(db, "other/c"))?.suspended_at).toBeNull();
    expect([await isInstallationSuspended(db, 5), await isInstallationSuspended(db, 6)]).toEqual([true, false]);
    expect(await unclaimedQueuedTasks(db, 1_000)).toEqual([]);

    expect((await setInstallationSuspended(db, 5, null)).length).toBe(2);
    expect(await isInstallationSuspended(db, 5)).toBe(false);
    expect((await unclaimedQueuedTasks(db, 1_000)).map((t) => t.id)).toEqual([task.id]);
    expect(await claimTask(db, task.id, "host:1:w", 60_000)).toMatchObject({ state: "running" });
  });
});
