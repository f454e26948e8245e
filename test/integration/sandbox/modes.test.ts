import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runSandboxed } from "../../../src/sandbox/run.js";
import { configureSandbox, sandboxStatus, startSandbox } from "../../../src/sandbox/status.js";
import { baseEnv } from "../../../src/util/exec.js";
import { removeDir } from "../../fixtures/git-repo.js";

/** Captures what `startSandbox` logs. */
function recorder() {
  const lines: Array<{ level: string; message: string }> = [];
  const at = (level: string) => (_object: object, message: string) => lines.push({ level, message });
  return { lines, log: { warn: at("warn"), error: at("error"), info: at("info") } };
}

describe("sandbox modes", () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-sandbox-modes-"));
  const worktree = path.join(root, "wt");
  mkdirSync(worktree);
  const run = () =>
    runSandboxed("sh", ["-c", `cat /proc/${process.pid}/environ > /dev/null && echo server-visible`], {
      worktree,
      home: worktree,
      allowedHosts: [],
      env: baseEnv(),
    });
  afterAll(() => removeDir(root));

  it("off: warned at start, shown as off, and runs unconfined", async () => {
    const { lines, log } = recorder();
    const status = await startSandbox({ mode: "off", hidden: [], log });
    expect(status).toMatchObject({ mode: "off" });
    expect(lines).toEqual([expect.objectContaining({ level: "warn", message: expect.stringMatching(/WITHOUT a sandbox/) })]);
    const result = await run();
    expect(result.sandboxed).toBe(false);
    expect(result.stdout).toBe("server-visible\n");
  });

  it("on: the same command sees no server process", async () => {
    const { log } = recorder();
    expect(await startSandbox({ mode: "on", hidden: [], log })).toMatchObject({ mode: "on", ready: true, problem: null });
    const result = await run();
    expect(result.sandboxed).toBe(true);
    expect(result.stdout).toBe("");
    expect(result.exitCode).not.toBe(0);
  });

  it("on, but the host cannot sandbox: runs are refused with SANDBOX_UNAVAILABLE, never run unconfined", async () => {
    const bin = path.join(root, "bin");
    mkdirSync(bin);
    for (const program of ["sh", "socat", "rg"])
      symlinkSync(path.join("/usr/bin", program === "sh" ? "dash" : program), path.join(bin, program));
    const saved = process.env.PATH;
    process.env.PATH = bin; // no bubblewrap on this PATH
    try {
      const { lines, log } = recorder();
      configureSandbox({ mode: "on", hidden: [] });
      const status = await startSandbox({ mode: "on", hidden: [], log });
      expect(status).toMatchObject({ mode: "on", ready: false, problem: expect.stringMatching(/bubblewrap/) });
      expect(lines.map((l) => l.level)).toEqual(["error"]);
      await expect(run()).rejects.toMatchObject({ code: "SANDBOX_UNAVAILABLE" });
      expect(sandboxStatus().ready).toBe(false);
    } finally {
      process.env.PATH = saved;
    }
  });
});
