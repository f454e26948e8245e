import { describe, expect, it } from "vitest";
import { createDeliveryIntake, finishDelivery, pruneDeliveries } from "../../../src/store/deliveries.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask, getTask, orphanedTasks, renewLease, TASK_MOVES, transition } from "../../../src/store/tasks.js";
import { backends } from "../../support/backends.js";

describe.each(backends())("tasks and deliveries on $name", (backend) => {
  const setup = async () => {
    const { db } = await backend.fresh();
    const repo = await upsertRepository(db, { fullName: "o/r", installationId: 1 });
    const input = { repositoryId: repo.id, issueNumber: 5, title: "t", requestedBy: "m", trigger: "comment" as const };
    return { db, repo, input };
  };

  it("keeps one open task per issue through queued, running and pr_open, and allows a new one once it ended", async () => {
    const { db, input } = await setup();
    const first = await createTask(db, input);
    expect(first.created).toBe(true);
    for (const step of ["queued", "running", "pr_open"] as const) {
      if (step === "running") await claimTask(db, first.task.id, "w", 60_000);
      if (step === "pr_open") await transition(db, first.task.id, "pr_open", { actor: "worker", owner: "w" }, { pr_number: 9 });
      expect(await createTask(db, input)).toMatchObject({ created: false, task: { id: first.task.id, state: step } });
    }
    await transition(db, first.task.id, "merged", { actor: "github" });
    expect((await createTask(db, input)).created).toBe(true);
  });

  it("moves only along the transition table, each move by its own kind of actor", async () => {
    const { db, input } = await setup();
    const { task } = await createTask(db, input);
    expect(await transition(db, task.id, "pr_open", { actor: "worker", owner: "w" })).toBeUndefined();
    expect(await transition(db, task.id, "merged", { actor: "person" })).toBeUndefined();
    expect(await transition(db, task.id, "cancelled", { actor: "person" })).toMatchObject({ state: "cancelled" });
    expect((await getTask(db, task.id))?.ended_at).not.toBeNull();
    expect(await transition(db, task.id, "queued", { actor: "person" })).toMatchObject({ state: "queued", ended_at: null });
    // Every move names who may make it; nothing leaves merged, and closed only back to pr_open when GitHub says the PR was reopened.
    expect(TASK_MOVES.filter((m) => m.from === "merged" || m.from === "closed")).toEqual([
      { from: "closed", to: "pr_open", by: ["github"] },
    ]);
  });

  it("lets a worker that lost its lease neither renew, transition, nor keep the task", async () => {
    const { db, input } = await setup();
    const { task } = await createTask(db, input);
    expect(await claimTask(db, task.id, "host:1:a", -1)).toMatchObject({ state: "running", attempts: 1, lease_owner: "host:1:a" });
    // The lease lapsed (negative length); a second worker takes the task over.
    expect(await orphanedTasks(db, "host:2:b")).toMatchObject([{ id: task.id }]);
    expect(await claimTask(db, task.id, "host:2:b", 60_000)).toMatchObject({ attempts: 2, lease_owner: "host:2:b" });
    expect(await renewLease(db, task.id, "host:1:a", 60_000)).toBe(false);
    expect(await transition(db, task.id, "pr_open", { actor: "worker", owner: "host:1:a" })).toBeUndefined();
    expect(await transition(db, task.id, "failed", { actor: "worker", owner: "host:1:a" })).toBeUndefined();
    expect(await getTask(db, task.id)).toMatchObject({ state: "running", lease_owner: "host:2:b" });
    // A live lease is not taken: a second claim by someone else gets nothing.
    expect(await claimTask(db, task.id, "host:3:c", 60_000)).toBeUndefined();
    expect(await transition(db, task.id, "pr_open", { actor: "worker", owner: "host:2:b" })).toMatchObject({
      state: "pr_open",
      lease_owner: null,
    });
  });

  it("stops renewing a lease once a cancel is asked", async () => {
    const { db, input } = await setup();
    const { task } = await createTask(db, input);
    await claimTask(db, task.id, "w", 60_000);
    expect(await renewLease(db, task.id, "w", 60_000)).toBe(true);
    await db.updateTable("tasks").set({ cancel_requested_by: "m" }).where("id", "=", task.id).execute();
    expect(await renewLease(db, task.id, "w", 60_000)).toBe(false);
  });

  it("records a delivery and its job once; a redelivery of a handled one is a no-op, of a failed one resumes it", async () => {
    const { db } = await setup();
    const enqueued: string[] = [];
    const intake = createDeliveryIntake(db, async (id) => void enqueued.push(id));
    const d = { id: "d1", event: "issue_comment", action: "created", installationId: 1, repository: "o/r", payload: '{"a":1}' };
    expect(await intake(d)).toBe("new");
    expect(await intake(d)).toBe("resumed");
    const jobs =
      backend.name === "sqlite" ? await db.selectFrom("jobs").selectAll().execute() : enqueued.map((id) => ({ key: `delivery:${id}` }));
    expect(new Set(jobs.map((j) => j.key))).toEqual(new Set(["delivery:d1"]));
    await finishDelivery(db, "d1", "failed", "boom");
    expect(await intake(d)).toBe("resumed");
    await finishDelivery(db, "d1", "processed");
    expect(await intake(d)).toBe("duplicate");
    expect(await db.selectFrom("deliveries").selectAll().where("id", "=", "d1").executeTakeFirst()).toMatchObject({
      status: "processed",
      payload: null,
    });
    // One no handler wants is recorded as handled at once, without payload or job; its redelivery is a no-op.
    const ignored = { ...d, id: "d2", ignored: true };
    expect(await intake(ignored)).toBe("new");
    expect(await intake(ignored)).toBe("duplicate");
    expect(await db.selectFrom("deliveries").selectAll().where("id", "=", "d2").executeTakeFirst()).toMatchObject({
      status: "processed",
      payload: null,
    });
    if (backend.name === "sqlite") expect(await db.selectFrom("jobs").select("key").where("key", "=", "delivery:d2").execute()).toEqual([]);
    else expect(enqueued).not.toContain("d2");
    expect(await pruneDeliveries(db, 60_000)).toBe(0);
    expect(await pruneDeliveries(db, -1)).toBe(2);
  });
});
