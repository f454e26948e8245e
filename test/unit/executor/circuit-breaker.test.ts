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
});
