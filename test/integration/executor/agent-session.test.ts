import { existsSync, readdirSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Settings } from "../../../src/config/env.js";
import { removeAgentHomes, runAgentSession } from "../../../src/executor/agent-session.js";
import { createClaudeCodeAgent } from "../../../src/executor/agents/claude-code.js";
import { createCodexAgent } from "../../../src/executor/agents/codex.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import type { TaskRun } from "../../../src/executor/run-task.js";
import { type ScriptedServer, startAnthropicServer } from "../../fixtures/model-servers/anthropic.js";
import { startOpenAIServer } from "../../fixtures/model-servers/openai.js";
import { makeRun } from "../agents/helpers.js";

const CLAUDE = path.resolve("node_modules/.bin/claude");
const CODEX = path.resolve("node_modules/.bin/codex");

/** Every string inside a JSON value, joined: what the model was shown. */
function strings(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(strings).join("\n");
  if (value && typeof value === "object") return Object.values(value).map(strings).join("\n");
  return "";
}

/** The main-loop requests of a scripted Anthropic server (those offering tools). */
const mainRequests = (server: ScriptedServer) => server.requests.filter((r) => (r.json as { tools?: unknown[] })?.tools?.length);

function claudeAgent(server: ScriptedServer) {
  const settings = loadAgentSettings({
    BACKLOG_BOT_CLAUDE_PATH: CLAUDE,
    BACKLOG_BOT_CLAUDE_MODEL: "claude-sonnet-4-5",
    BACKLOG_BOT_CLAUDE_ENV: "ANTHROPIC_API_KEY,ANTHROPIC_BASE_URL",
    ANTHROPIC_API_KEY: "sk-ant-test-not-a-real-key",
    ANTHROPIC_BASE_URL: server.url,
  });
  return createClaudeCodeAgent(settings.claude);
}

describe("the agent's own session across rounds", () => {
  let server: ScriptedServer | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await server?.close();
    await cleanup?.();
  });

  it("claude: --resume continues the same session with the history; a gone session is reported as resumeFailed", async () => {
    const run = await makeRun({ prompt: "FIRST-TURN-MARKER: say hello." });
    cleanup = run.cleanup;
    server = await startAnthropicServer([{ text: "Hello from the first turn." }, { text: "Second turn done." }]);
    const agent = claudeAgent(server);

    const first = await agent.run(run.input);
    expect(first.outcome, first.error).toBe("finished");
    expect(first.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const second = await agent.run({ ...run.input, prompt: "SECOND-TURN-MARKER", resume: first.sessionId as string });
    expect(second.outcome, second.error).toBe("finished");
    expect(second.sessionId).toBe(first.sessionId);
    const messages = (mainRequests(server)[1]?.json as { messages?: unknown[] } | undefined)?.messages ?? [];
    expect(strings(messages.slice(0, -1))).toMatch(/FIRST-TURN-MARKER[\s\S]*Hello from the first turn\./);
    expect(strings(messages.at(-1))).toContain("SECOND-TURN-MARKER");
    expect(strings(messages.at(-1))).not.toContain("FIRST-TURN-MARKER");

    await rm(path.join(run.input.home, ".claude", "projects"), { recursive: true, force: true });
    const gone = await agent.run({ ...run.input, prompt: "THIRD", resume: first.sessionId as string });
    expect(gone).toMatchObject({ outcome: "failed", resumeFailed: true, sessionId: null });
    expect(gone.error).toMatch(/No conversation found/);
    // The transcript is appended to: every invocation of the run is in it.
    expect((await readFile(run.input.transcriptPath, "utf8")).match(/^\$ /gm)).toHaveLength(3);
  });

  it("runAgentSession resumes with only the turn, falls back to the fresh prompt when the session is gone (said in the notes), and removeAgentHomes ends the HOME", async () => {
    const scratch = await makeRun({ prompt: "ORIGINAL-TASK-MARKER: say hello." });
    cleanup = scratch.cleanup;
    server = await startAnthropicServer([{ text: "One." }, { text: "Two." }, { text: "Three." }]);
    const agent = claudeAgent(server);
    const run = {
      deps: { settings: { dataDir: path.join(scratch.root, "data") } as Settings },
      task: { id: 41, attempts: 1 },
      prompt: scratch.input.prompt,
      notes: [],
    } as unknown as TaskRun;
    const input = {
      worktree: scratch.input.worktree,
      transcriptPath: scratch.input.transcriptPath,
      timeoutMs: 90_000,
      maxOutputBytes: 1 << 20,
    };
    const fresh = async () => "FRESH-PROMPT-MARKER: the task again, then the failure.";

    const first = await runAgentSession(run, agent, input);
    const home = run.agentSession?.home as string;
    expect(path.basename(home)).toMatch(/^task-41-attempt-1-/);
    expect(run.agentSession?.ids["claude-code"]).toBe(first.sessionId);

    run.nextTurn = { round: 2, text: "RESUME-TURN-MARKER: npm test fails.", fresh };
    const second = await runAgentSession(run, agent, input);
    expect(second.sessionId).toBe(first.sessionId);
    expect(run.agentSession).toMatchObject({ home, resumed: 1 });
    expect(strings(mainRequests(server)[1]?.json)).toContain("RESUME-TURN-MARKER");
    expect(strings(mainRequests(server)[1]?.json)).not.toContain("FRESH-PROMPT-MARKER");

    await rm(path.join(home, ".claude", "projects"), { recursive: true, force: true });
    run.nextTurn = { round: 3, text: "RESUME-TURN-MARKER again", fresh };
    const third = await runAgentSession(run, agent, input);
    expect(third.outcome, third.error).toBe("finished");
    expect(third.sessionId).not.toBe(first.sessionId);
    expect(run.agentSession?.ids["claude-code"]).toBe(third.sessionId);
    expect(run.prompt).toBe(await fresh());
    const last = strings(mainRequests(server).at(-1)?.json);
    expect(last).toContain("FRESH-PROMPT-MARKER");
    expect(last).not.toContain("ORIGINAL-TASK-MARKER");
    expect(run.notes).toEqual([
      expect.stringMatching(/^Round 3: `claude-code` could not resume its session \(.*No conversation found.*\), so it started again/),
    ]);

    await removeAgentHomes(run);
    expect(existsSync(home)).toBe(false);
    expect(readdirSync(path.dirname(home))).toEqual([]);
  });

  it("codex: exec resume continues the same thread with the history, counts only its own tokens, and reports a gone thread", async () => {
    const run = await makeRun({ prompt: "FIRST-TURN-MARKER: say hello." });
    cleanup = run.cleanup;
    server = await startOpenAIServer([{ text: "Hello from the first turn." }, { text: "Second turn done." }]);
    const settings = loadAgentSettings({
      BACKLOG_BOT_CODEX_PATH: CODEX,
      BACKLOG_BOT_CODEX_MODEL: "scripted-model",
      BACKLOG_BOT_CODEX_BASE_URL: `${server.url}/v1`,
      OPENAI_API_KEY: "sk-test-not-a-real-key-0000",
    });
    const agent = createCodexAgent(settings.codex);

    const first = await agent.run(run.input);
    expect(first.outcome, first.error).toBe("finished");
    expect(first.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect([first.inputTokens, first.outputTokens]).toEqual([120, 30]);
    const second = await agent.run({ ...run.input, prompt: "SECOND-TURN-MARKER", resume: first.sessionId as string });
    expect(second.outcome, second.error).toBe("finished");
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.summary).toBe("Second turn done.");
    // One request in the resumed run: its own tokens, not the thread's running total.
    expect([second.inputTokens, second.outputTokens]).toEqual([120, 30]);
    const responses = server.requests.filter((r) => r.path.endsWith("/responses"));
    expect(responses).toHaveLength(2);
    expect(responses[1]?.body).toMatch(/FIRST-TURN-MARKER[\s\S]*Hello from the first turn\.[\s\S]*SECOND-TURN-MARKER/);

    const gone = await agent.run({ ...run.input, prompt: "THIRD", resume: "0b7e6a55-3c0e-4a57-9d1e-4f3f2b0e9d11" });
    expect(gone).toMatchObject({ outcome: "failed", resumeFailed: true, sessionId: null });
    expect(gone.error).toMatch(/no rollout found/);
  });
});
