import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { baseEnv, runCommand } from "../../../src/util/exec.js";
import { initProcessRegistry, killLeftovers, liveChildren } from "../../../src/util/process-registry.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { runningWithArg } from "../agents/helpers.js";

const marker = () => `300.${String(Math.random()).slice(2, 10)}`;

/** Issue 8: no child outlives its run, and a restarted server kills what its killed predecessor left. */
describe("child process groups", () => {
  const root = makeTempDir("backlog-bot-processes-");
  afterAll(() => removeDir(root));

  it("a background process holding stdout neither outlives the run nor keeps it waiting", async () => {
    const m = marker();
    // The background sleep inherits stdout: without the group kill at the leader's exit, execa
    // would wait for it to close (300 s), far past the test's own timeout.
    const result = await runCommand("sh", ["-c", `sleep ${m} & echo leader done`], { cwd: root, env: baseEnv() });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("leader done\n");
    expect(runningWithArg(m)).toBe(false);
    expect(liveChildren()).toEqual([]);
  });

  it("a line handler that throws fails the run, not the process: the child's group is killed and the error is the cause", async () => {
    const m = marker();
    const seen: string[] = [];
    const run = runCommand("sh", ["-c", `echo first; echo '{"odd":1}'; sleep ${m}; echo never`], {
      cwd: root,
      env: baseEnv(),
      onStdoutLine: (line) => {
        seen.push(line);
        if (line.startsWith("{")) throw new TypeError("content.filter is not a function");
      },
    });
    // Without the guard the TypeError escapes the stream's event: an uncaught exception that ends the test process.
    await expect(run).rejects.toThrow(/^reading sh's output failed, so it was stopped: content\.filter is not a function$/);
    await expect(run).rejects.toMatchObject({ cause: expect.any(TypeError) });
    expect(seen).toEqual(["first", '{"odd":1}']); // nothing after the failure
    expect(runningWithArg(m)).toBe(false);
    expect(liveChildren()).toEqual([]);
  });

  it("a process group left by a server killed with SIGKILL is killed at the next start", async () => {
    const dataDir = path.join(root, "data");
    const m = marker();
    const server = spawn(process.execPath, ["--import", "tsx", path.resolve("test/fixtures/processes/dying-server.ts"), dataDir, m], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => server.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("started") && resolve()));
    expect(runningWithArg(m)).toBe(true);
    server.kill("SIGKILL");
    await new Promise((resolve) => server.once("exit", resolve));
    // The dead server's children are orphans now, still running.
    expect(runningWithArg(m)).toBe(true);

    initProcessRegistry(dataDir); // what the next server does at start
    expect(killLeftovers()).toBe(1);
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = !runningWithArg(m);
      if (!gone) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(gone).toBe(true);
    expect(killLeftovers()).toBe(0); // the registry was cleared
  });

  it("a sandboxed run of a server killed with SIGKILL takes itself down: nothing of it keeps running", async () => {
    const dataDir = path.join(root, "data-sandboxed");
    const m = marker();
    const server = spawn(
      process.execPath,
      ["--import", "tsx", path.resolve("test/fixtures/processes/dying-server.ts"), dataDir, m, "sandboxed"],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => server.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("started") && resolve()));
    server.kill("SIGKILL");
    await new Promise((resolve) => server.once("exit", resolve));
    // No killLeftovers here: the runner notices its server is gone and kills the run's group, and
    // bubblewrap's PID namespace takes the sandboxed processes with it.
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      gone = !runningWithArg(m);
      if (!gone) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(gone).toBe(true);
  });
});
