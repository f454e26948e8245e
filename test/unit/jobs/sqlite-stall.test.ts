import { afterEach, describe, expect, it } from "vitest";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { quiet } from "../../support/jobs.js";

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe("SQLite jobs when the event loop stalls past the lease", () => {
  it("runs a job once: the process's own sweep renews its running jobs before it takes expired leases back", async () => {
    const dir = makeTempDir();
    const db: Db = await openDb(dir);
    const jobs = createSqliteJobs({ db, log: quiet, pollMs: 50, leaseMs: 600 });
    cleanup.push(
      () => removeDir(dir),
      () => db.destroy(),
      () => jobs.stop(100),
    );
    let starts = 0;
    let aborted = false;
    jobs.handle("long", async (_payload, ctx) => {
      starts++;
      await new Promise((resolve) => setTimeout(resolve, 100));
      // A long GC pause or a paused VM: no timer runs for longer than the lease.
      const until = Date.now() + 1_000;
      while (Date.now() < until) {}
      await new Promise((resolve) => setTimeout(resolve, 800));
      aborted = ctx.signal.aborted;
    });
    await jobs.add({ kind: "long", payload: {} });
    await jobs.start();
    await jobs.drain();
    expect([starts, aborted]).toEqual([1, false]);
  });
});
