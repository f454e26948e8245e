import { spawnSync } from "node:child_process";
import path from "node:path";
import pino from "pino";
import { describe, expect, it, onTestFinished } from "vitest";
import { createGraphileJobs } from "../../../src/jobs/graphile.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import { openDb } from "../../../src/store/db.js";
import { listOpenFindings, syncFindings } from "../../../src/store/findings.js";
import { getCachedResponse, putCachedResponse } from "../../../src/store/http-cache.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { createTask, getTask } from "../../../src/store/tasks.js";
import { backends, createTestDatabase } from "../../support/backends.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const log = pino({ level: "silent" });

/** `backlog-bot migrate-store ...` as a real process (the TypeScript sources through tsx). */
function migrateStore(args: string[], dataDir: string) {
  const script = `const m = await import(${JSON.stringify(path.join(ROOT, "src/cli/index.ts"))}); process.exitCode = await m.main(${JSON.stringify(["migrate-store", ...args])});`;
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: dataDir, BACKLOG_BOT_DATA_DIR: dataDir },
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("backlog-bot migrate-store", () => {
  it("refuses a target that is not PostgreSQL, and a data directory without a store", async () => {
    const sqlite = await backends()[0]?.fresh();
    if (!sqlite) throw new Error("no SQLite backend");
    const wrongUrl = migrateStore(["--to", "mysql://x/y"], sqlite.dataDir);
    expect(wrongUrl.code).toBe(2);
    expect(wrongUrl.stderr).toContain("--to must be a postgres:// URL");
    const noStore = migrateStore(["--to", "postgres://127.0.0.1:1/x", "--from", path.join(sqlite.dataDir, "nowhere")], sqlite.dataDir);
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toContain("no SQLite store");
  });

  for (const backend of backends().filter((b) => b.name === "postgres")) {
    it("moves a populated SQLite store (ids, findings, tasks, deliveries, HTTP cache, pending jobs) into an empty PostgreSQL database", async () => {
      const sqlite = await (backends()[0]?.fresh() ?? Promise.reject(new Error("no SQLite backend")));
      const { db } = sqlite;
      const repo = await upsertRepository(db, { fullName: "octo/app", installationId: 3_000_000_001 });
      await syncFindings(
        db,
        repo.id,
        [
          { kind: "todo", fingerprint: "f1", title: "TODO: one", path: "a.ts", line: 3, signals: { marker: "TODO" } },
          { kind: "todo", fingerprint: "f2", title: "FIXME: two \u0000 nul", path: "b.ts", line: 9, signals: { marker: "FIXME" } },
        ],
        { kinds: ["todo"] },
      );
      const { task } = await createTask(db, {
        repositoryId: repo.id,
        issueNumber: 7,
        title: "Fix it",
        requestedBy: "maint",
        trigger: "comment",
      });
      await db
        .insertInto("deliveries")
        .values({ id: "d-1", event: "issue_comment", action: "created", status: "processed", received_at: new Date().toISOString() })
        .execute();
      await putCachedResponse(db, "GET /repos/octo/app/issues", { etag: 'W/"abc"', lastModified: null, body: [{ n: 1 }] });
      const sqliteJobs = createSqliteJobs({ db, log });
      await sqliteJobs.add({ kind: "task.run", payload: { taskId: task.id }, key: `task:${task.id}`, queue: `repo:${repo.id}` });

      const target = await createTestDatabase();
      onTestFinished(() => target.drop());
      const moved = migrateStore(["--to", target.url], sqlite.dataDir);
      expect(moved.stderr).toBe("");
      expect(moved.code).toBe(0);
      expect(moved.stdout).toMatch(/findings\s+2 rows/);
      expect(moved.stdout).toMatch(/1 pending moved to graphile-worker/);

      const pg = await openDb(sqlite.dataDir, { databaseUrl: target.url });
      onTestFinished(() => pg.destroy());
      expect(await pg.selectFrom("repositories").selectAll().execute()).toEqual([repo]);
      expect((await listOpenFindings(pg)).map((f) => [f.fingerprint, f.title])).toEqual([
        ["f1", "TODO: one"],
        ["f2", "FIXME: two \uFFFD nul"],
      ]);
      expect(await getTask(pg, task.id)).toEqual(await getTask(db, task.id));
      expect(await pg.selectFrom("deliveries").select(["id", "status"]).execute()).toEqual([{ id: "d-1", status: "processed" }]);
      expect(await getCachedResponse(pg, "GET /repos/octo/app/issues")).toEqual({ etag: 'W/"abc"', lastModified: null, body: [{ n: 1 }] });

      // New rows continue after the copied ids, and the pending job runs from graphile-worker.
      const next = await createTask(pg, { repositoryId: repo.id, issueNumber: 8, title: "Next", requestedBy: "maint", trigger: "comment" });
      expect(next.task.id).toBeGreaterThan(task.id);
      const jobs = createGraphileJobs({ connectionString: target.url, log, pollMs: 100 });
      onTestFinished(() => jobs.stop(1000));
      const ran: unknown[] = [];
      jobs.handle("task.run", async (payload) => {
        ran.push(payload);
      });
      await jobs.start();
      await jobs.drain();
      expect(ran).toEqual([{ taskId: task.id }]);

      const again = migrateStore(["--to", target.url], sqlite.dataDir);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("already has rows in");
      expect(backend.name).toBe("postgres");
    });
  }
});
