import { spawnSync } from "node:child_process";
import path from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import { openDb } from "../../../src/store/db.js";
import { createLogger } from "../../../src/util/logger.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const log = createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

const cli = (dataDir: string, ...args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, "bin/backlog-bot.js"), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, BACKLOG_BOT_DATA_DIR: dataDir },
    encoding: "utf8",
  });

// Runs the built CLI (dist/, as `npm test` builds it first).
describe("backlog-bot jobs", () => {
  it("shows a dead job with its last error, and retries it by id", async () => {
    const dataDir = makeTempDir("backlog-bot-jobs-cli-");
    dirs.push(dataDir);
    const db = await openDb(dataDir);
    const jobs = createSqliteJobs({ db, log, pollMs: 10, backoffMs: () => 1 });
    jobs.handle("delivery", async () => {
      throw new Error("GitHub answered 502 Bad Gateway");
    });
    await jobs.start();
    const id = await jobs.add({ kind: "delivery", payload: { deliveryId: "x" }, maxAttempts: 2 });
    await jobs.drain();
    await jobs.stop(100);
    await db.destroy();

    const shown = cli(dataDir, "jobs");
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain("1 dead");
    expect(shown.stdout).toMatch(new RegExp(`dead +${id} +delivery +2 attempts, last .*: GitHub answered 502 Bad Gateway`));

    expect(cli(dataDir, "jobs", "retry", id).status).toBe(0);
    const again = await openDb(dataDir);
    expect(await again.selectFrom("jobs").select(["state", "attempts"]).execute()).toEqual([{ state: "waiting", attempts: 0 }]);
    await again.destroy();
    expect(cli(dataDir, "jobs", "retry", id).status).toBe(1);
    expect(cli(dataDir, "jobs", "retry").status).toBe(2);
  });
});
