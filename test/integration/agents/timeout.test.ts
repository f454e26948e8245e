import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createCommandAgent } from "../../../src/executor/agents/command.js";
import { createGeminiAgent } from "../../../src/executor/agents/gemini.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import { makeRun, runningWithArg } from "./helpers.js";

/** Waits until `check` holds or `ms` pass. */
async function eventually(check: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe("an agent that hangs", () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => cleanup?.());

  it("command agent: killed at its timeout with its children; outcome timeout", async () => {
    // Long enough for the sandbox to start on a loaded machine (docs/benchmarks.md: up to ~1-2 s).
    const run = await makeRun({ timeoutMs: 6_000 });
    cleanup = run.cleanup;
    const script = path.join(run.root, "hang.sh");
    const marker = `300.${String(Math.random()).slice(2, 10)}`;
    await writeFile(script, `#!/bin/sh\nsleep ${marker} &\necho $! > "$HOME/child.pid"\necho started\nsleep 300\n`, { mode: 0o755 });
    const started = Date.now();
    const result = await createCommandAgent(script).run(run.input);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.outcome).toBe("timeout");
    expect(result.error).toMatch(/timed out after 6 s; its process tree was killed/);
    const child = Number(await readFile(path.join(run.input.home, "child.pid"), "utf8"));
    expect(child).toBeGreaterThan(0);
    expect(await eventually(() => !runningWithArg(marker))).toBe(true);
  });

  it("CLI adapters (gemini stand-in): killed at the timeout with the child it spawned", async () => {
    const run = await makeRun({ prompt: "PLEASE-HANG", timeoutMs: 6_000 });
    cleanup = run.cleanup;
    const settings = loadAgentSettings({ BACKLOG_BOT_GEMINI_PATH: path.resolve("test/fixtures/fake-agents/gemini") });
    const result = await createGeminiAgent(settings.gemini).run(run.input);
    expect(result.outcome).toBe("timeout");
    expect(result.infrastructureFailure).toBeUndefined();
    expect(result.error).toMatch(/timed out after 6 s/);
    const marker = await readFile(path.join(run.input.home, "child.marker"), "utf8");
    expect(await eventually(() => !runningWithArg(marker))).toBe(true);
  });
});
