import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClaudeCodeAgent } from "../../../src/executor/agents/claude-code.js";
import { preparePrompt } from "../../../src/executor/agents/prompt/index.js";
import { createAgentRegistry, resolveAgent } from "../../../src/executor/agents/registry.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import { type ScriptedServer, startAnthropicServer } from "../../fixtures/model-servers/anthropic.js";
import { startRecordingServer } from "../../fixtures/model-servers/http.js";
import { leakedCanaries, makeRun, plantCanaries, readText } from "./helpers.js";

const CLAUDE = path.resolve("node_modules/.bin/claude");

/** Every string inside a JSON value, joined: the prompt text as the model saw it. */
function strings(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(strings).join("\n");
  if (value && typeof value === "object") return Object.values(value).map(strings).join("\n");
  return "";
}

describe("claude-code adapter with the real claude CLI", () => {
  let restore: () => void;
  let server: ScriptedServer | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(() => {
    restore = plantCanaries();
  });
  afterAll(() => restore());
  afterEach(async () => {
    await server?.close();
    await cleanup?.();
  });

  it("reads and edits a file through tool calls, reports figures, and leaks no bot secret", async () => {
    const run = await makeRun();
    cleanup = run.cleanup;
    run.input.prompt = await preparePrompt({
      kind: "issue",
      triggeredAt: new Date().toISOString(),
      owner: "o",
      repo: "r",
      repository: "o/r",
      issueNumber: 7,
      title: "Greet the agent",
      body: "ISSUE-MARKER-42: hello.txt should say hello agent.",
      worktree: run.input.worktree,
    });
    server = await startAnthropicServer([
      { text: "Reading the file.", toolUses: [{ name: "Read", input: { file_path: run.file } }] },
      { toolUses: [{ name: "Edit", input: { file_path: run.file, old_string: "hello world", new_string: "hello agent" } }] },
      { toolUses: [{ name: "Bash", input: { command: "env", description: "Show the environment" } }] },
      { text: "Changed hello.txt to greet the agent, as the issue asked." },
    ]);
    const settings = loadAgentSettings({
      ...process.env,
      BACKLOG_BOT_AGENTS: "claude-code",
      BACKLOG_BOT_CLAUDE_PATH: CLAUDE,
      BACKLOG_BOT_CLAUDE_MODEL: "claude-sonnet-4-5",
      BACKLOG_BOT_CLAUDE_MAX_TURNS: "8",
      BACKLOG_BOT_CLAUDE_ENV: "ANTHROPIC_API_KEY,ANTHROPIC_BASE_URL",
      ANTHROPIC_API_KEY: "sk-ant-test-not-a-real-key",
      ANTHROPIC_BASE_URL: server.url,
    });
    const choice = resolveAgent(createAgentRegistry(settings));
    if ("error" in choice) throw new Error(choice.error);
    const [agent] = choice.agents;
    if (!agent) throw new Error("no agent");
    const result = await agent.run(run.input);

    expect(result.outcome, result.error).toBe("finished");
    expect(await readText(run.file)).toBe("hello agent\n");
    expect(result.summary).toBe("Changed hello.txt to greet the agent, as the issue asked.");
    expect(result.turns).toBe(4);
    expect(result.inputTokens).toBe(400);
    expect(result.outputTokens).toBe(80);
    expect(result.costUsd).toBeGreaterThan(0);
    expect(existsSync(result.transcriptPath)).toBe(true);
    const transcript = await readText(result.transcriptPath);
    expect(transcript).toContain('"type":"result"');

    const main = server.requests.filter((r) => (r.json as { tools?: unknown[] } | undefined)?.tools?.length);
    expect(main.length).toBe(4);
    expect(strings(main[0]?.json)).toMatch(/<issue_body number="7">\n[^<]*ISSUE-MARKER-42[^<]*\n<\/issue_body>/);
    // The env tool result travelled back to the model: it shows the agent's whole environment.
    const envDump = strings(main[3]?.json);
    expect(envDump).toContain(`HOME=${run.input.home}`);
    expect(envDump).toContain("ANTHROPIC_BASE_URL=");
    for (const request of server.requests) expect(leakedCanaries(request.body)).toEqual([]);
    for (const request of server.requests) expect(JSON.stringify(request.headers)).not.toMatch(/canary/i);
    expect(leakedCanaries(transcript)).toEqual([]);
    expect(leakedCanaries(run.input.prompt)).toEqual([]);
  });

  it("reports a missing binary as an infrastructure failure", async () => {
    const run = await makeRun();
    cleanup = run.cleanup;
    const settings = loadAgentSettings({ BACKLOG_BOT_CLAUDE_PATH: path.join(run.root, "no-such-claude") });
    const result = await createClaudeCodeAgent(settings.claude).run(run.input);
    expect(result.outcome).toBe("failed");
    expect(result.infrastructureFailure).toBe(true);
    expect(result.error).toMatch(/could not start/);
  });

  it("reports a model service that refuses the key as an infrastructure failure", async () => {
    const run = await makeRun();
    cleanup = run.cleanup;
    server = await startRecordingServer((_request, res) => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } }));
      return true;
    });
    const settings = loadAgentSettings({
      BACKLOG_BOT_CLAUDE_PATH: CLAUDE,
      BACKLOG_BOT_CLAUDE_ENV: "ANTHROPIC_API_KEY,ANTHROPIC_BASE_URL",
      ANTHROPIC_API_KEY: "sk-ant-test-not-a-real-key",
      ANTHROPIC_BASE_URL: server.url,
    });
    const result = await createClaudeCodeAgent(settings.claude).run({ ...run.input, timeoutMs: 45_000 });
    expect(result.outcome, result.error).toBe("failed");
    expect(result.infrastructureFailure).toBe(true);
  });
});
