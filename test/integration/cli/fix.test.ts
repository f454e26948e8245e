import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

// Runs the built CLI (dist/, as `npm test` builds it first).
const cli = (dataDir: string, ...args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, "bin/backlog-bot.js"), "fix", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, BACKLOG_BOT_DATA_DIR: dataDir, BACKLOG_BOT_AGENT_COMMAND: "true" },
    encoding: "utf8",
  });

describe("backlog-bot fix", () => {
  it("queues a task and its run for a finding, once, and refuses what is not there", async () => {
    const dataDir = makeTempDir("backlog-bot-fix-cli-");
    dirs.push(dataDir);
    const db = await openDb(dataDir);
    const repo = await upsertRepository(db, { fullName: "octo-org/widgets", installationId: 1 });
    const at = new Date().toISOString();
    const { id } = await db
      .insertInto("findings")
      .values({
        repository_id: repo.id,
        fingerprint: "f1",
        kind: "todo",
        title: "TODO: handle empty input",
        path: "a.js",
        line: 3,
        signals: "{}",
        first_seen_at: at,
        last_seen_at: at,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await db.destroy();

    const first = cli(dataDir, String(id), "--repo", "octo-org/widgets");
    expect(first.stderr).toBe("");
    expect(first.stdout).toContain("queued task #1 (command)");
    expect(first.status).toBe(0);
    expect(cli(dataDir, String(id), "--repo", "octo-org/widgets").stdout).toContain("task #1 is already queued");

    const check = await openDb(dataDir);
    expect(await check.selectFrom("tasks").select(["finding_id", "trigger", "state", "title"]).execute()).toEqual([
      { finding_id: id, trigger: "cli", state: "queued", title: "TODO: handle empty input" },
    ]);
    // The task's run, and the dashboard's re-render that shows it queued.
    expect(await check.selectFrom("jobs").select(["kind", "key"]).orderBy("id").execute()).toEqual([
      { kind: "task.run", key: "task:1" },
      { kind: "dashboard.sync", key: "dashboard:1" },
    ]);
    await check.destroy();

    expect(cli(dataDir, "999", "--repo", "octo-org/widgets").status).toBe(2);
    expect(cli(dataDir, String(id), "--repo", "nobody/nothing").status).toBe(2);
    expect(cli(dataDir, String(id)).status).toBe(2);
  });
});
