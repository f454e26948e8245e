import { describe, expect, it } from "vitest";
import { listAudit, recordAudit } from "../../../src/store/audit.js";
import { backends } from "../../support/backends.js";

describe.each(backends())("audit log on $name", (backend) => {
  it("records acts with their detail and lists them newest first", async () => {
    const { db } = await backend.fresh();
    await recordAudit(db, {
      actor: "alice",
      action: "task.start",
      repository: "o/a",
      target: "finding:1",
      outcome: "ok",
      detail: { taskId: 3 },
    });
    await recordAudit(db, {
      actor: "bob",
      action: "task.start",
      repository: "o/a",
      target: "finding:2",
      outcome: "refused",
      detail: "no write access",
    });
    const { items, nextBefore } = await listAudit(db);
    expect(items.map((i) => i.actor)).toEqual(["bob", "alice"]);
    expect(items[1]).toMatchObject({ action: "task.start", repository: "o/a", target: "finding:1", outcome: "ok", detail: { taskId: 3 } });
    expect(items[0]?.detail).toBe("no write access");
    expect(items[0]?.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(nextBefore).toBeNull();
  });

  it("pages with a keyset cursor and filters by repository, actor and outcome", async () => {
    const { db } = await backend.fresh();
    for (let i = 0; i < 7; i++) {
      await recordAudit(db, {
        actor: i % 2 ? "alice" : "bob",
        action: "comment.create",
        repository: i < 5 ? "o/a" : "o/b",
        outcome: i === 3 ? "failed" : "ok",
      });
    }
    const first = await listAudit(db, { limit: 3 });
    expect(first.items).toHaveLength(3);
    const second = await listAudit(db, { limit: 3, before: first.nextBefore ?? 0 });
    const third = await listAudit(db, { limit: 3, before: second.nextBefore ?? 0 });
    expect(third.items).toHaveLength(1);
    expect(third.nextBefore).toBeNull();
    const ids = [...first.items, ...second.items, ...third.items].map((i) => i.id);
    expect(new Set(ids).size).toBe(7);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));

    expect((await listAudit(db, { repositories: ["o/b"] })).items).toHaveLength(2);
    expect((await listAudit(db, { repositories: [] })).items).toHaveLength(0);
    expect((await listAudit(db, { actor: "alice" })).items).toHaveLength(3);
    expect((await listAudit(db, { outcome: "failed" })).items).toHaveLength(1);
  });
});
