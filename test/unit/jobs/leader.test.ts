import pg from "pg";
import pino from "pino";
import { describe, expect, it, onTestFinished } from "vitest";
import { createLeadership, LEADER_LOCK_CLASS } from "../../../src/jobs/leader.js";
import { backends } from "../../support/backends.js";

const log = pino({ level: "silent" });
const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
};

describe.each(backends())("scheduler leadership on $name", (backend) => {
  const lead = async (databaseUrl: string | undefined) => {
    const leadership = createLeadership({ databaseUrl, name: "scheduler", log, retryMs: 100 });
    onTestFinished(() => leadership.stop());
    await leadership.start();
    return leadership;
  };

  it("gives the lead to exactly one process, and to another once the leader's connection dies", async () => {
    const store = await backend.fresh();
    const [a, b, c] = [await lead(store.databaseUrl), await lead(store.databaseUrl), await lead(store.databaseUrl)];
    if (backend.name === "sqlite") {
      // One process per SQLite store: it always leads.
      expect([a, b, c].every((l) => l.isLeader())).toBe(true);
      return;
    }
    expect([a, b, c].filter((l) => l.isLeader())).toEqual([a]);
    // The leader's connection dies as a killed process's would: terminated by the server.
    const admin = new pg.Client({ connectionString: store.databaseUrl });
    await admin.connect();
    // Only this test's database: other suites' servers hold the same lock class in their own databases.
    await admin.query(
      `select pg_terminate_backend(pid) from pg_locks
        where locktype = 'advisory' and classid = $1::int::oid and database = (select oid from pg_database where datname = current_database())`,
      [LEADER_LOCK_CLASS],
    );
    await admin.end();
    // A killed process never tries again; this one is alive and would, so it stops trying now.
    await a.stop();
    await until(() => !a.isLeader() && (b.isLeader() || c.isLeader()));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([a, b, c].filter((l) => l.isLeader())).toHaveLength(1);
    const next = b.isLeader() ? b : c;
    await next.stop();
    await until(() => [a, b, c].some((l) => l !== next && l.isLeader()));
    expect([a, b, c].filter((l) => l.isLeader())).toHaveLength(1);
  });
});
