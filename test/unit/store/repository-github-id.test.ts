import { Migrator, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { migrations } from "../../../src/store/migrations/index.js";
import { getRepository, getRepositoryByGithubId, listRepositories, upsertRepository } from "../../../src/store/repositories.js";
import { createTask, getTask } from "../../../src/store/tasks.js";
import { backends } from "../../support/backends.js";

/** Migration 0010: GitHub's repository id on `repositories`, and rows that follow it across renames. */
describe.each(backends())("repository github_id on $name", (backend) => {
  it("adds a nullable, unique github_id to rows written before it, wide enough for ids past 2^31", async () => {
    const store = await backend.fresh();
    const migrator = new Migrator({ db: store.db, provider: { getMigrations: async () => migrations } });
    expect((await migrator.migrateTo("0009-attribution-findings")).error).toBeUndefined();
    const at = new Date().toISOString();
    await sql`insert into repositories (full_name, default_branch, created_at, updated_at) values (${"octo/old"}, ${"main"}, ${at}, ${at})`.execute(
      store.db,
    );
    await store.db.destroy();

    const db = await store.reopen();
    expect((await getRepository(db, "octo/old"))?.github_id).toBeNull();
    // Several rows without an id (CLI checkouts) are allowed; one id is held by one row only.
    await upsertRepository(db, { fullName: "/home/me/checkout" });
    const big = 2 ** 40;
    await upsertRepository(db, { fullName: "octo/old", githubId: big });
    expect((await getRepositoryByGithubId(db, big))?.full_name).toBe("octo/old");
    const now = new Date().toISOString();
    await expect(
      sql`insert into repositories (full_name, default_branch, github_id, created_at, updated_at) values (${"octo/dup"}, ${"main"}, ${big}, ${now}, ${now})`.execute(
        db,
      ),
    ).rejects.toThrow();

    const back = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    expect((await back.migrateTo("0009-attribution-findings")).error).toBeUndefined();
    expect((await back.migrateToLatest()).error).toBeUndefined();
    expect((await getRepository(db, "octo/old"))?.github_id).toBeNull();
  });

  it("an upsert naming a known id under a new name renames that row: one row, its tasks and dashboard kept", async () => {
    const { db } = await backend.fresh();
    const old = await upsertRepository(db, { fullName: "octo/widgets", githubId: 77, installationId: 1 });
    await db.updateTable("repositories").set({ dashboard_issue_number: 5 }).where("id", "=", old.id).execute();
    const { task } = await createTask(db, { repositoryId: old.id, issueNumber: 42, title: "fix", requestedBy: "ada", trigger: "comment" });

    const renamed = await upsertRepository(db, { fullName: "octo/gadgets", githubId: 77, installationId: 1 });
    expect(renamed).toMatchObject({ id: old.id, full_name: "octo/gadgets", github_id: 77, dashboard_issue_number: 5 });
    expect((await listRepositories(db)).map((r) => r.full_name)).toEqual(["octo/gadgets"]);
    expect((await getTask(db, task.id))?.repository_id).toBe(old.id);

    // A payload without an id (a bad one) is stored by name, and follows nothing.
    await upsertRepository(db, { fullName: "octo/gadgets", githubId: undefined });
    expect((await getRepository(db, "octo/gadgets"))?.github_id).toBe(77);
  });
});
