import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Db, openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import type { WebEvent } from "../../../src/util/live-events.js";
import { watchTask } from "../../../src/web/task-watch.js";
import { removeDir } from "../../fixtures/git-repo.js";

const dirs: string[] = [];
const databases: Db[] = [];
afterEach(async () => {
  for (const db of databases.splice(0)) await db.destroy();
  for (const dir of dirs.splice(0)) removeDir(dir);
});

const line = (text: string) => `${JSON.stringify({ type: "assistant", message: { content: [{ type: "text", text }] } })}\n`;

describe("watchTask's transcript tail", () => {
  it("keeps a character whole when a read of the file ends inside it (reads are 256 KiB)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-watch-"));
    dirs.push(dir);
    const db = await openDb(dir);
    databases.push(db);
    const repo = await upsertRepository(db, { fullName: "o/a" });
    const at = new Date().toISOString();
    const { id: taskId } = await db
      .insertInto("tasks")
      .values({
        repository_id: repo.id,
        title: "t",
        state: "running",
        requested_by: "a",
        trigger: "dashboard",
        created_at: at,
        updated_at: at,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const file = path.join(dir, "run.log");
    writeFileSync(file, "");
    await db.insertInto("runs").values({ task_id: taskId, agent: "command", started_at: at, transcript_path: file }).execute();

    const events: WebEvent[] = [];
    const watch = watchTask(db, taskId, (e) => events.push(e), 20);
    try {
      while (!events.some((e) => e.type === "task")) await new Promise((r) => setTimeout(r, 10));
      // The second line's "é" (2 bytes in UTF-8) starts at byte 262,143: the first read ends between its bytes.
      const second = line("é short line");
      const before = Buffer.byteLength(second.slice(0, second.indexOf("é")));
      const filler = line("a".repeat(256 * 1024 - 1 - before - Buffer.byteLength(line(""))));
      expect(Buffer.byteLength(filler) + before).toBe(256 * 1024 - 1);
      appendFileSync(file, filler + second);
      const texts = () =>
        events
          .flatMap((e) => (e.type === "transcript" ? [(e.event as { text?: string }).text ?? ""] : []))
          .filter((t) => !t.startsWith("a"));
      const deadline = Date.now() + 5_000;
      while (texts().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(texts()).toEqual(["é short line"]);
    } finally {
      watch.stop();
    }
  });
});
