import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAiderAgent } from "../../../src/executor/agents/aider.js";
import { createGeminiAgent } from "../../../src/executor/agents/gemini.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import { isSandboxVariable } from "../../../src/sandbox/policy.js";
import { baseEnv } from "../../../src/util/exec.js";
import { leakedCanaries, makeRun, plantCanaries, readText } from "./helpers.js";

const FAKES = path.resolve("test/fixtures/fake-agents");

interface Recorded {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  stdin?: string;
  message?: string;
}

const readRecord = async (home: string, name: string): Promise<Recorded> =>
  JSON.parse(await readFile(path.join(home, `${name}-record.json`), "utf8")) as Recorded;

describe("aider and gemini adapters with stand-in executables", () => {
  let restore: () => void;
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(() => {
    restore = plantCanaries();
  });
  afterAll(() => restore());
  afterEach(async () => cleanup?.());

  const settings = () =>
    loadAgentSettings({
      ...process.env,
      BACKLOG_BOT_AIDER_PATH: path.join(FAKES, "aider"),
      BACKLOG_BOT_AIDER_MODEL: "sonnet",
      BACKLOG_BOT_AIDER_ENV: "ANTHROPIC_API_KEY",
      BACKLOG_BOT_GEMINI_PATH: path.join(FAKES, "gemini"),
      BACKLOG_BOT_GEMINI_MODEL: "gemini-2.5-pro",
      BACKLOG_BOT_GEMINI_ENV: "GEMINI_API_KEY",
      ANTHROPIC_API_KEY: "sk-ant-aider-test",
      GEMINI_API_KEY: "gemini-test-key",
    });

  it("aider: message file, no commits, every answer yes; figures from its token lines", async () => {
    const run = await makeRun({ prompt: "Please edit hello.txt." });
    cleanup = run.cleanup;
    const result = await createAiderAgent(settings().aider).run(run.input);
    expect(result.outcome, result.error).toBe("finished");
    expect(await readText(run.file)).toBe("hello world\nedited by aider\n");
    const recorded = await readRecord(run.input.home, "aider");
    const messageFile = path.join(run.input.home, "prompt.md");
    expect(recorded.argv.slice(0, 6)).toEqual([
      "--message-file",
      messageFile,
      "--yes-always",
      "--no-auto-commits",
      "--no-dirty-commits",
      "--no-gitignore",
    ]);
    expect(recorded.argv).toEqual(expect.arrayContaining(["--no-check-update", "--no-analytics", "--model", "sonnet"]));
    expect(recorded.message).toBe("Please edit hello.txt.");
    expect(recorded.cwd).toBe(run.input.worktree);
    expect(recorded.env.HOME).toBe(run.input.home);
    expect(recorded.env.ANTHROPIC_API_KEY).toBe("sk-ant-aider-test");
    expect(recorded.env.GEMINI_API_KEY).toBeUndefined();
    expect(leakedCanaries(JSON.stringify(recorded))).toEqual([]);
    expect(result).toMatchObject({ turns: 2, inputTokens: 3500, outputTokens: 300, costUsd: 0.03 });
    expect(result.summary).toContain("I appended a line to hello.txt.");
    expect(leakedCanaries(await readText(result.transcriptPath))).toEqual([]);
  });

  it("gemini: -p headless, --yolo, JSON output; prompt on stdin; figures from stats", async () => {
    const run = await makeRun({ prompt: "Please edit hello.txt." });
    cleanup = run.cleanup;
    const result = await createGeminiAgent(settings().gemini).run(run.input);
    expect(result.outcome, result.error).toBe("finished");
    expect(await readText(run.file)).toBe("hello world\nedited by gemini\n");
    const recorded = await readRecord(run.input.home, "gemini");
    expect(recorded.argv).toEqual([
      "-p",
      "Carry out the task given in this input.",
      "--yolo",
      "--output-format",
      "json",
      "--model",
      "gemini-2.5-pro",
    ]);
    expect(recorded.stdin).toBe("Please edit hello.txt.");
    expect(recorded.env.GEMINI_API_KEY).toBe("gemini-test-key");
    expect(recorded.env.ANTHROPIC_API_KEY).toBeUndefined();
    // The whole environment: the allowlist, the private HOME and this agent's own key, nothing else.
    // (Less what the sandbox itself sets: its proxy's address and its TMPDIR.)
    const own = Object.keys(recorded.env).filter((name) => !isSandboxVariable(name));
    expect(own.sort()).toEqual([...Object.keys(baseEnv()).filter((name) => name !== "TMPDIR"), "HOME", "GEMINI_API_KEY"].sort());
    expect(leakedCanaries(JSON.stringify(recorded))).toEqual([]);
    expect(result).toMatchObject({
      summary: "I appended a line to hello.txt.",
      turns: 3,
      inputTokens: 900,
      outputTokens: 120,
      costUsd: null,
    });
    const geminiSettings = JSON.parse(await readFile(path.join(run.input.home, ".gemini", "settings.json"), "utf8"));
    expect(geminiSettings.privacy.usageStatisticsEnabled).toBe(false);
  });

  it("a failure that edited nothing is an infrastructure failure, with the CLI's own error", async () => {
    const run = await makeRun({ prompt: "PLEASE-FAIL" });
    cleanup = run.cleanup;
    const gemini = await createGeminiAgent(settings().gemini).run(run.input);
    expect(gemini).toMatchObject({ outcome: "failed", exitCode: 41, infrastructureFailure: true });
    expect(gemini.error).toContain("FatalAuthenticationError: API key not valid");
    const aider = await createAiderAgent(settings().aider).run(run.input);
    expect(aider).toMatchObject({ outcome: "failed", exitCode: 1, infrastructureFailure: true });
    expect(aider.error).toContain("AuthenticationError");
  });

  it("a run that hit the task's own limit is a failure but not an infrastructure one", async () => {
    const run = await makeRun({ prompt: "PLEASE-RUN-OUT-OF-TURNS" });
    cleanup = run.cleanup;
    const result = await createGeminiAgent(settings().gemini).run(run.input);
    expect(result).toMatchObject({ outcome: "failed", exitCode: 53, infrastructureFailure: false });
  });
});

describe("transcript", () => {
  it("an unwritable transcript path neither crashes nor fails the run", async () => {
    const run = await makeRun({ prompt: "Please edit hello.txt." });
    try {
      const settings = loadAgentSettings({ BACKLOG_BOT_GEMINI_PATH: path.join(FAKES, "gemini") });
      const result = await createGeminiAgent(settings.gemini).run({
        ...run.input,
        transcriptPath: path.join(run.root, "missing-dir", "t.log"),
      });
      expect(result.outcome, result.error).toBe("finished");
    } finally {
      await run.cleanup();
    }
  });
});
