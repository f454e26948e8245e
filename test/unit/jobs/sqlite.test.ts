import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import type { Jobs } from "../../../src/jobs/types.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { createLogger } from "../../../src/util/logger.js";

const log = createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const open: Array<{ db: Db; jobs: Jobs[] }> = [];

async function setup(count = 1, leaseMs = 60_000) {
  const db = await openDb(mkdtempSync(path.join(os.tmpdir(), "backlog-bot-jobs-")));
  const jobs = Array.from({ length: count }, () => createSqliteJobs({ db, log, pollMs: 20, leaseMs, backoffMs: () => 10 }));
  open.push({ db, jobs });
  return { db, jobs };
}

afterEach(async () => {
  for (const { db, jobs } of open.splice(0)) {
    for (const j of jobs) await j.stop(100);
    await db.destroy();
  }
});

describe("SQLite jobs", () => {
  it("runs a job once and deletes it", async () => {
    const { db, jobs } = await setup();
    const seen: unknown[] = [];
    jobs[0]?.handle("echo", async (payload) => void seen.push(payload));
    await jobs[0]?.start();
    await jobs[0]?.add({ kind: "echo", payload: { n: 1 } });
    await jobs[0]?.drain();
    expect(seen).toEqual([{ n: 1 }]);
    expect(await db.selectFrom("jobs").selectAll().execute()).toEqual([]);
  });

  it("dedupes by key while pending, and not after", async () => {
    const { jobs } = await setup();
    const j = jobs[0] as Jobs;
    let runs = 0;
    j.handle("k", async () => void runs++);
    const a = await j.add({ kind: "k", payload: 1, key: "same" });
    const b = await j.add({ kind: "k", payload: 2, key: "same" });
    expect(b).toBe(a);
    await j.start();
    await j.drain();
    await j.add({ kind: "k", payload: 3, key: "same" });
    await j.drain();
    expect(runs).toBe(2);
  });

  it("retries with backoff and keeps an exhausted job dead with its error, retryable by hand", async () => {
    const { jobs } = await setup();
    const j = jobs[0] as Jobs;
    const attempts: number[] = [];
    let healthy = false;
    j.handle("flaky", async (_p, ctx) => {
      attempts.push(ctx.attempt);
      if (!healthy) throw new Error("service down");
    });
    await j.start();
    await j.add({ kind: "flaky", payload: null, maxAttempts: 3 });
    await j.drain();
    expect(attempts).toEqual([1, 2, 3]);
    const dead = await j.dead();
    expect(dead).toMatchObject([{ kind: "flaky", attempts: 3, lastError: "service down" }]);
    expect((await j.stats()).dead).toBe(1);
    healthy = true;
    expect(await j.retry(dead[0]?.id ?? "")).toBe(true);
    await j.drain();
    expect(attempts).toEqual([1, 2, 3, 1]);
    expect((await j.stats()).dead).toBe(0);
  });

  it("runs jobs of one queue one at a time, other queues in parallel", async () => {
    const { jobs } = await setup();
    const j = jobs[0] as Jobs;
    const active = new Map<string, number>();
    let maxSameQueue = 0;
    let maxOverall = 0;
    j.handle(
      "q",
      async (p: { queue: string }) => {
        active.set(p.queue, (active.get(p.queue) ?? 0) + 1);
        maxSameQueue = Math.max(maxSameQueue, active.get(p.queue) ?? 0);
        maxOverall = Math.max(
          maxOverall,
          [...active.values()].reduce((a, b) => a + b, 0),
        );
        await new Promise((r) => setTimeout(r, 30));
        active.set(p.queue, (active.get(p.queue) ?? 1) - 1);
      },
      { concurrency: 4 },
    );
    for (let i = 0; i < 4; i++) {
      await j.add({ kind: "q", payload: { queue: "a" }, queue: "a" });
      await j.add({ kind: "q", payload: { queue: "b" }, queue: "b" });
    }
    await j.start();
    await j.drain();
    expect(maxSameQueue).toBe(1);
    expect(maxOverall).toBe(2);
  });

  it("never gives one job to two workers", async () => {
    const { jobs } = await setup(3);
    const counts = new Map<number, number>();
    for (const j of jobs) {
      j.handle("one", async (p: number) => {
        counts.set(p, (counts.get(p) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 2));
      });
    }
    for (let i = 0; i < 60; i++) await jobs[0]?.add({ kind: "one", payload: i });
    await Promise.all(jobs.map((j) => j.start()));
    await Promise.all(jobs.map((j) => j.drain()));
    expect(counts.size).toBe(60);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it("aborts a handler whose lease was taken over and leaves the job to the taker", async () => {
    const { db, jobs } = await setup(1, 90);
    const j = jobs[0] as Jobs;
    let aborted = false;
    j.handle("long", async (_p, ctx) => {
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      aborted = true;
      throw new Error("aborted");
    });
    await j.start();
    await j.add({ kind: "long", payload: null });
    await new Promise((r) => setTimeout(r, 50));
    await db.updateTable("jobs").set({ locked_by: "other-host:1:x", locked_until: "2999-01-01T00:00:00.000Z" }).execute();
    await new Promise((r) => setTimeout(r, 120));
    expect(aborted).toBe(true);
    const row = await db.selectFrom("jobs").selectAll().executeTakeFirstOrThrow();
    expect(row.locked_by).toBe("other-host:1:x");
  });
});
