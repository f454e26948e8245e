import { existsSync } from "node:fs";
import { chmod, lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createAiderAgent } from "../../../src/executor/agents/aider.js";
import { codexConfig, createCodexAgent } from "../../../src/executor/agents/codex.js";
import { createCommandAgent } from "../../../src/executor/agents/command.js";
import { createGeminiAgent } from "../../../src/executor/agents/gemini.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import { sandboxMode } from "../../../src/sandbox/status.js";
import { makeRun } from "./helpers.js";

/**
 * One attempt keeps its HOME across rounds and fallback agents, and the agent can write there. A
 * round-1 agent (a real sandboxed run) plants symlinks to files and directories outside the HOME;
 * the next runs of every adapter must write their prompt and config files as real files inside
 * the HOME and leave the link targets alone.
 */

const FAKES = path.resolve("test/fixtures/fake-agents");
const ORIGINAL = "ORIGINAL victim content\n";
const USAGE_ELSEWHERE = JSON.stringify({ t1: { input: 100, output: 10 } });
const ROUND_2 = "Round 2. The tests failed:\nssh-ed25519 AAAA-ATTACKER-CONTROLLED attacker@evil\n";

/** A shell script, executable. */
async function script(file: string, body: string): Promise<string> {
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

describe("agent HOME: host-side writes never follow a symlink the agent planted", () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => cleanup?.());

  /** A run whose round 1 was a hostile agent running `plant` (sh) in its HOME; the victims outside it. */
  async function afterHostileRound(plant: (v: { file: string; dir: string; usage: string; absent: string }) => string) {
    const run = await makeRun();
    cleanup = run.cleanup;
    const bin = path.join(run.root, "bin");
    const victims = path.join(run.root, "victims");
    await mkdir(bin);
    await mkdir(path.join(victims, "dir"), { recursive: true });
    const v = {
      file: path.join(victims, "file.txt"),
      dir: path.join(victims, "dir"),
      usage: path.join(victims, "usage.json"),
      absent: path.join(victims, "created-through-a-dangling-link"),
    };
    await writeFile(v.file, ORIGINAL);
    await writeFile(path.join(v.dir, "keep.txt"), ORIGINAL);
    await writeFile(v.usage, USAGE_ELSEWHERE);
    // The command agent's own prompt.md is there: the hostile agent replaces it (and anything else) with its links.
    const hostile = await script(
      path.join(bin, "hostile"),
      `cat >/dev/null\ncd "$HOME"\nrm -rf prompt.md .codex .gemini\n${plant(v)}\necho planted`,
    );
    const round1 = await createCommandAgent(hostile).run({ ...run.input, prompt: "round 1" });
    expect(round1.outcome, round1.error).toBe("finished");
    expect((await lstat(path.join(run.input.home, "prompt.md"))).isSymbolicLink()).toBe(true);
    // A stand-in for codex: reads the prompt, reports thread t1 with the thread's total usage.
    const codex = await script(
      path.join(bin, "codex"),
      `cat >/dev/null
echo '{"type":"thread.started","thread_id":"t1"}'
echo '{"type":"item.completed","item":{"type":"agent_message","text":"done"}}'
echo '{"type":"turn.completed","usage":{"input_tokens":150,"output_tokens":20}}'`,
    );
    const settings = loadAgentSettings({
      BACKLOG_BOT_AIDER_PATH: path.join(FAKES, "aider"),
      BACKLOG_BOT_GEMINI_PATH: path.join(FAKES, "gemini"),
      BACKLOG_BOT_CODEX_PATH: codex,
      OPENAI_API_KEY: "sk-test-not-a-real-key-0000",
    });
    const input = { ...run.input, prompt: ROUND_2 };
    return { bin, v, settings, input, home: run.input.home };
  }

  /** The victims are as they were. */
  async function expectVictimsUntouched(v: { file: string; dir: string; usage: string; absent: string }) {
    expect(await readFile(v.file, "utf8")).toBe(ORIGINAL);
    expect((await readdir(v.dir)).sort()).toEqual(["keep.txt"]);
    expect(await readFile(path.join(v.dir, "keep.txt"), "utf8")).toBe(ORIGINAL);
    expect(await readFile(v.usage, "utf8")).toBe(USAGE_ELSEWHERE);
    expect(existsSync(v.absent)).toBe(false);
  }

  /** `file` is a regular file (not a link) whose parents up to `home` are real directories, holding `content`. */
  async function expectRealFile(home: string, relative: string, content: string) {
    let dir = home;
    for (const part of relative.split("/").slice(0, -1)) {
      dir = path.join(dir, part);
      expect((await lstat(dir)).isDirectory(), dir).toBe(true);
    }
    const file = path.join(home, relative);
    expect((await lstat(file)).isFile(), file).toBe(true);
    expect(await readFile(file, "utf8")).toBe(content);
  }

  it("links to a file and to directories: prompt.md, ~/.codex and ~/.gemini", async () => {
    const { v, settings, input, home } = await afterHostileRound(
      (v) => `ln -s '${v.file}' prompt.md && ln -s '${v.dir}' .codex && ln -s '${v.dir}' .gemini`,
    );
    // Round 2 and its fallbacks, in the attempt's HOME, as runAgentSession runs them.
    const aider = await createAiderAgent(settings.aider).run(input);
    await expectVictimsUntouched(v);
    expect(aider.outcome, aider.error).toBe("finished");
    expect(JSON.parse(await readFile(path.join(home, "aider-record.json"), "utf8")).message).toBe(ROUND_2);
    await expectRealFile(home, "prompt.md", ROUND_2);
    await expectVictimsUntouched(v);

    const codex = await createCodexAgent(settings.codex).run(input);
    await expectVictimsUntouched(v);
    expect(codex.outcome, codex.error).toBe("finished");
    await expectRealFile(home, ".codex/config.toml", codexConfig(settings.codex, sandboxMode() === "on"));
    await expectRealFile(home, ".codex/backlog-bot-usage.json", JSON.stringify({ t1: { input: 150, output: 20 } }));

    const gemini = await createGeminiAgent(settings.gemini).run(input);
    await expectVictimsUntouched(v);
    expect(gemini.outcome, gemini.error).toBe("finished");
    const geminiSettings = JSON.parse(await readFile(path.join(home, ".gemini", "settings.json"), "utf8"));
    expect(geminiSettings.privacy.usageStatisticsEnabled).toBe(false);
    expect((await lstat(path.join(home, ".gemini", "settings.json"))).isFile()).toBe(true);
    await expectVictimsUntouched(v);
  });

  it("links to files inside real directories, a dangling link, and a planted usage file", async () => {
    const { bin, v, settings, input, home } = await afterHostileRound(
      (v) =>
        `ln -s '${v.absent}' prompt.md && mkdir .codex .gemini && ln -s '${v.file}' .codex/config.toml ` +
        `&& ln -s '${v.usage}' .codex/backlog-bot-usage.json && ln -s '${v.file}' .gemini/settings.json`,
    );
    const reader = await script(path.join(bin, "reader"), 'cat >/dev/null\ncat "$BACKLOG_BOT_PROMPT_FILE"');
    const command = await createCommandAgent(reader).run(input);
    await expectVictimsUntouched(v);
    expect(command.outcome, command.error).toBe("finished");
    expect(command.summary).toContain("AAAA-ATTACKER-CONTROLLED");
    await expectRealFile(home, "prompt.md", ROUND_2);
    await expectVictimsUntouched(v);

    // A resume of t1: the thread's previous totals are read from the HOME, never through a link out of it.
    const codex = await createCodexAgent(settings.codex).run({ ...input, resume: "t1" });
    await expectVictimsUntouched(v);
    expect(codex.outcome, codex.error).toBe("finished");
    expect(codex).toMatchObject({ inputTokens: 150, outputTokens: 20 });
    await expectRealFile(home, ".codex/config.toml", codexConfig(settings.codex, sandboxMode() === "on"));
    await expectRealFile(home, ".codex/backlog-bot-usage.json", JSON.stringify({ t1: { input: 150, output: 20 } }));

    const gemini = await createGeminiAgent(settings.gemini).run(input);
    await expectVictimsUntouched(v);
    expect(gemini.outcome, gemini.error).toBe("finished");
    expect((await lstat(path.join(home, ".gemini", "settings.json"))).isFile()).toBe(true);
    await expectVictimsUntouched(v);
  });
});
