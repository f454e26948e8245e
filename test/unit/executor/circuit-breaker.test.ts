import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { CircuitBreakers } from "../../../src/executor/circuit-breaker.js";
import { openDb } from "../../../src/store/db.js";
import { createLogger } from "../../../src/util/logger.js";

const log = createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe("circuit breakers", () => {
  it("open after N consecutive infrastructure failures, let one trial through after the cool-down, and close on its success", async () => {
    const db = await openDb(mkdtempSync(path.join(os.tmpdir(), "backlog-bot-breaker-")));
    const breakers = new CircuitBreakers(db, { failures: 3, cooldownMs: 60 }, log);
    const key = "agent:claude-code";
    expect(await breakers.check(key)).toEqual({ allowed: true, trial: false });
    await breakers.failure(key, "529 overloaded");
    await breakers.failure(key, "529 overloaded");
    // A success in between resets the count: only consecutive failures open it.
    await breakers.success(key);
    for (let i = 0; i < 2; i++) await breakers.failure(key, "529 overloaded");
    expect((await breakers.check(key)).allowed).toBe(true);
    await breakers.failure(key, "529 overloaded");
    const open = await breakers.check(key);
    expect(open).toMatchObject({ allowed: false, lastError: "529 overloaded" });
    expect(await breakers.notClosed()).toEqual([{ key, state: "open", failures: 3, lastError: "529 overloaded" }]);

    await new Promise((r) => setTimeout(r, 80));
    expect(await breakers.check(key)).toEqual({ allowed: true, trial: true });
    // While the one trial runs, nobody else gets through.
    expect((await breakers.check(key)).allowed).toBe(false);
    await breakers.success(key);
    expect(await breakers.check(key)).toEqual({ allowed: true, trial: false });
    expect(await breakers.notClosed()).toEqual([]);
    await db.destroy();
  });

  it("reopens at once when the half-open trial fails", async () => {
    const db = await openDb(mkdtempSync(path.join(os.tmpdir(), "backlog-bot-breaker-")));
    const breakers = new CircuitBreakers(db, { failures: 1, cooldownMs: 40 }, log);
    await breakers.failure("repo:1", "clone failed");
    expect((await breakers.check("repo:1")).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(await breakers.check("repo:1")).toEqual({ allowed: true, trial: true });
    await breakers.failure("repo:1", "clone failed again");
    expect(await breakers.check("repo:1")).toMatchObject({ allowed: false, lastError: "clone failed again" });
    await db.destroy();
  });
  it("grants a new trial when the trial granted has not reported within the cool-down (its worker died)", async () => {
    const db = await openDb(mkdtempSync(path.join(os.tmpdir(), "backlog-bot-breaker-")));
    const breakers = new CircuitBreakers(db, { failures: 1, cooldownMs: 40 }, log);
    await breakers.failure("repo:1", "clone failed");
    await new Promise((r) => setTimeout(r, 60));
    expect(await breakers.check("repo:1")).toEqual({ allowed: true, trial: true });
    // The trial runs: nobody else gets through, and is told to ask again no later than the trial's expiry.
    const waiting = await breakers.check("repo:1");
    expect(waiting).toMatchObject({ allowed: false, lastError: "clone failed" });
    // The trial's holder never reports (no success, failure or release).
    await new Promise((r) => setTimeout(r, 60));
    expect(await breakers.check("repo:1")).toEqual({ allowed: true, trial: true });
    expect((await breakers.check("repo:1")).allowed).toBe(false);
    // Its verdict still counts as usual.
    await breakers.success("repo:1");
    expect(await breakers.check("repo:1")).toEqual({ allowed: true, trial: false });
    await db.destroy();
  });

  it("tells a run turned away while half-open to ask again within 30 s (or at the trial's expiry), not every second", async () => {
    const db = await openDb(mkdtempSync(path.join(os.tmpdir(), "backlog-bot-breaker-")));
    const breakers = new CircuitBreakers(db, { failures: 1, cooldownMs: 600_000 }, log);
    await breakers.failure("agent:codex", "529 overloaded");
    await db
      .updateTable("circuit_breakers")
      .set({ opened_at: new Date(Date.now() - 700_000).toISOString() })
      .execute();
    expect(await breakers.check("agent:codex")).toEqual({ allowed: true, trial: true });
    const waiting = await breakers.check("agent:codex");
    if (waiting.allowed) throw new Error("a second trial was granted");
    const wait = waiting.retryAt.getTime() - Date.now();
    expect(wait).toBeGreaterThan(25_000);
    expect(wait).toBeLessThanOrEqual(30_000);
    await db.destroy();
  });

  it("lets the next check run a trial at once when the trial is given back, counting nothing", async () => {
    const db = await openDb(mkdtempSync(path.join(os.tmpdir(), "backlog-bot-breaker-")));
    const breakers = new CircuitBreakers(db, { failures: 2, cooldownMs: 60_000 }, log);
    await breakers.failure("repo:1", "clone failed");
    await breakers.failure("repo:1", "clone failed");
    await db
      .updateTable("circuit_breakers")
      .set({ opened_at: new Date(Date.now() - 120_000).toISOString() })
      .execute();
    expect(await breakers.check("repo:1")).toEqual({ allowed: true, trial: true });
    await breakers.release("repo:1");
    expect(await breakers.notClosed()).toEqual([{ key: "repo:1", state: "open", failures: 2, lastError: "clone failed" }]);
    expect(await breakers.check("repo:1")).toEqual({ allowed: true, trial: true });
    // Given back on a closed or open breaker, it changes nothing.
    await breakers.success("repo:1");
    await breakers.release("repo:1");
    expect(await breakers.check("repo:1")).toEqual({ allowed: true, trial: false });
    await db.destroy();
  });
});
