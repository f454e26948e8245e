import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../../src/cli/index.js";
import { seedStore } from "./support.js";

let dir = "";
let ids: Record<string, number> = {};
beforeAll(async () => {
  const seeded = await seedStore();
  dir = seeded.dir;
  ids = seeded.ids;
  await seeded.db.destroy();
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  vi.stubEnv("BACKLOG_BOT_DATA_DIR", dir);
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("CLI reads: tasks, runs, transcript", () => {
  it("lists tasks as a table and as JSON lines, filtered by state and repository", async () => {
    const table = await cli(["tasks"]);
    expect(table.code).toBe(0);
    expect(table.out.split("\n")[0]).toMatch(/^ID\s+STATE\s+REPO\s+AGENT\s+PR\s+ASKED BY\s+CREATED\s+TITLE$/);
    expect(table.out).toMatch(new RegExp(`^${ids.task}\\s+failed\\s+o/a\\s+claude-code`, "m"));
    const json = await cli(["tasks", "--json", "--state", "failed", "--repo", "o/a"]);
    expect(json.out.split("\n").map((l) => JSON.parse(l).id)).toEqual([ids.task]);
    expect((await cli(["tasks", "--state", "queued"])).out).toBe("No tasks.");
    const bad = await cli(["tasks", "--state", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--state must be one of");
    expect((await cli(["tasks", "--repo", "x/y"])).code).toBe(2);
  });

  it("shows a task's runs with tokens, cost and verification", async () => {
    const { code, out } = await cli(["runs", String(ids.task)]);
    expect(code).toBe(0);
    expect(out).toContain(`Task ${ids.task} · o/a · failed`);
    expect(out).toMatch(new RegExp(`^${ids.run}\\s+claude-code\\s+failed\\s+.*\\s2\\s+100/20\\s+\\$0\\.25\\s+failed: 1 of 3 tests$`, "m"));
    expect((await cli(["runs", "abc"])).code).toBe(2);
    expect((await cli(["runs", "999"])).err).toContain("no task 999");
  });

  it("prints a run's transcript as a conversation, or its events as JSON", async () => {
    const { code, out } = await cli(["transcript", String(ids.run)]);
    expect(code).toBe(0);
    expect(out).toContain("assistant:\n    I will read the file.");
    expect(out).toContain("→ Read\n    {");
    expect(out).toContain("← result\n    export const x = 1;");
    expect(out).toContain("result · 2 turns · $0.25:\n    Done.");
    const json = await cli(["transcript", String(ids.run), "--json"]);
    expect(json.out.split("\n").map((l) => JSON.parse(l).kind)).toEqual([
      "text",
      "message",
      "message",
      "tool_call",
      "tool_result",
      "result",
    ]);
  });

  it("has --help on each command", async () => {
    for (const name of ["tasks", "runs", "transcript"]) {
      const { code, out } = await cli([name, "--help"]);
      expect(code).toBe(0);
      expect(out).toContain(`Usage: backlog-bot ${name}`);
    }
    expect((await cli(["--help"])).out).toMatch(/^ {2}transcript\s+Print an agent run's transcript/m);
  });
});
