import { describe, expect, it } from "vitest";
import { aiderArgs, createAiderOutputParser } from "../../../../src/executor/agents/aider.js";
import { claudeArgs, createClaudeStreamParser } from "../../../../src/executor/agents/claude-code.js";
import { sessionIdOf } from "../../../../src/executor/agents/cli-run.js";
import { codexArgs, codexConfig, createCodexEventParser } from "../../../../src/executor/agents/codex.js";
import { geminiArgs, parseGeminiOutput } from "../../../../src/executor/agents/gemini.js";
import { loadAgentSettings } from "../../../../src/executor/agents/settings.js";

const settings = loadAgentSettings({
  BACKLOG_BOT_CLAUDE_MODEL: "sonnet",
  BACKLOG_BOT_CLAUDE_MAX_TURNS: "30",
  BACKLOG_BOT_CLAUDE_ALLOWED_TOOLS: "Read,Edit,Bash(npm test:*)",
  BACKLOG_BOT_CODEX_MODEL: 'gpt-5"codex',
  BACKLOG_BOT_CODEX_API_KEY_ENV: "MY_OPENAI_KEY",
  BACKLOG_BOT_CODEX_ARGS: "-c model_reasoning_effort=low",
});

describe("command lines", () => {
  it("claude: headless stream-json, acceptEdits, limits and the tool allowlist", () => {
    expect(claudeArgs(settings.claude)).toEqual([
      ...["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "acceptEdits"],
      ...["--model", "sonnet", "--max-turns", "30", "--allowedTools", "Read,Edit,Bash(npm test:*)"],
    ]);
  });

  it("claude: --resume <session> right after -p continues that session (no --fork-session)", () => {
    const args = claudeArgs(settings.claude, "2732c045-a87e-4e03-9698-a193ecf98dd5");
    expect(args.slice(0, 3)).toEqual(["-p", "--resume", "2732c045-a87e-4e03-9698-a193ecf98dd5"]);
    expect(args.slice(3)).toEqual(claudeArgs(settings.claude).slice(1));
    expect(args).not.toContain("--fork-session");
  });

  it("codex: exec --json reading stdin, operator args before the prompt marker", () => {
    expect(codexArgs(settings.codex)).toEqual(["exec", "--json", "--skip-git-repo-check", "-c", "model_reasoning_effort=low", "-"]);
  });

  it("codex: exec resume [options] <thread id> - (the syntax of `codex exec resume --help`)", () => {
    expect(codexArgs(settings.codex, "01a23c9f-e55b-7df2-a4ce-17b339ed5f54")).toEqual([
      ...["exec", "resume", "--json", "--skip-git-repo-check", "-c", "model_reasoning_effort=low"],
      ...["01a23c9f-e55b-7df2-a4ce-17b339ed5f54", "-"],
    ]);
  });

  it("codex: a private config.toml with a custom provider (escaped values)", () => {
    const config = codexConfig(settings.codex);
    expect(config).toContain('model = "gpt-5\\"codex"');
    expect(config).toContain('model_provider = "backlog-bot"');
    expect(config).toContain('base_url = "https://api.openai.com/v1"');
    expect(config).toContain('env_key = "MY_OPENAI_KEY"');
    expect(config).toContain('wire_api = "responses"');
  });

  it("aider and gemini", () => {
    expect(aiderArgs(settings.aider, "/h/p.md")).toContain("--no-auto-commits");
    expect(geminiArgs(settings.gemini)).toEqual(["-p", "Carry out the task given in this input.", "--yolo", "--output-format", "json"]);
  });
});

describe("output parsers", () => {
  it("claude: the result event gives summary, turns, tokens (cache included) and cost", () => {
    const parser = createClaudeStreamParser();
    for (const event of [
      { type: "system", subtype: "init", model: "sonnet", session_id: "s-1" },
      {
        type: "assistant",
        message: {
          content: [
            { type: "text", text: "Looking." },
            { type: "tool_use", name: "Read" },
          ],
        },
      },
      "not json",
      { type: "assistant", message: { content: [{ type: "text", text: "All done." }] } },
      {
        type: "result",
        subtype: "success",
        is_error: false,
        num_turns: 3,
        result: "All done.",
        total_cost_usd: 0.12,
        usage: { input_tokens: 10, cache_read_input_tokens: 5, cache_creation_input_tokens: 1, output_tokens: 7 },
      },
    ]) {
      parser.onLine(typeof event === "string" ? event : JSON.stringify(event));
    }
    expect(parser.parsed()).toEqual({
      summary: "All done.",
      turns: 3,
      inputTokens: 16,
      outputTokens: 7,
      costUsd: 0.12,
      error: undefined,
      limitReached: false,
      sessionId: "s-1",
      sessionStarted: true,
    });
  });

  it("claude: a resume of a gone session (error result echoing the id, no init) opens no session", () => {
    const parser = createClaudeStreamParser();
    parser.onLine(JSON.stringify({ type: "result", subtype: "error_during_execution", is_error: true, num_turns: 0, session_id: "gone" }));
    expect(parser.parsed()).toMatchObject({
      sessionId: null,
      sessionStarted: false,
      error: expect.stringMatching(/error_during_execution/),
    });
  });

  it("claude: an error result is a failure even with exit code 0; without a result, the last text stands", () => {
    const failed = createClaudeStreamParser();
    failed.onLine(JSON.stringify({ type: "result", subtype: "error_max_turns", is_error: true, num_turns: 30 }));
    expect(failed.parsed()).toMatchObject({ error: expect.stringMatching(/error_max_turns/), limitReached: true });
    const cut = createClaudeStreamParser();
    cut.onLine(JSON.stringify({ type: "assistant", message: { content: [{ type: "text", text: "Halfway." }] } }));
    expect(cut.parsed()).toMatchObject({ summary: "Halfway.", turns: 1, inputTokens: null, costUsd: null });
  });

  it("codex: agent messages, actions and usage; turn.failed is an error", () => {
    const parser = createCodexEventParser();
    for (const event of [
      { type: "thread.started", thread_id: "t" },
      { type: "item.completed", item: { type: "error", message: "Model metadata not found" } },
      { type: "item.completed", item: { type: "command_execution", command: "ls", exit_code: 0 } },
      { type: "item.completed", item: { type: "agent_message", text: "Fixed it." } },
      { type: "turn.completed", usage: { input_tokens: 50, cached_input_tokens: 10, output_tokens: 5 } },
    ]) {
      parser.onLine(JSON.stringify(event));
    }
    expect(parser.parsed()).toEqual({
      summary: "Fixed it.",
      turns: 2,
      inputTokens: 50,
      outputTokens: 5,
      costUsd: null,
      error: undefined,
      sessionId: "t",
      sessionStarted: true,
    });
    expect(createCodexEventParser().parsed()).toMatchObject({ sessionId: null, sessionStarted: false });
    parser.onLine(JSON.stringify({ type: "turn.failed", error: { message: "stream disconnected" } }));
    expect(parser.parsed().error).toBe("stream disconnected");
  });

  it("aider: sums token lines (k = thousand) and keeps the session cost", () => {
    const parser = createAiderOutputParser();
    parser.onLine("Tokens: 1.2k sent, 80 received. Cost: $0.004 message, $0.004 session.");
    parser.onLine("Tokens: 300 sent, 20 received.");
    expect(parser.parsed("done")).toEqual({ summary: "done", turns: 2, inputTokens: 1500, outputTokens: 100, costUsd: 0.004 });
  });

  it("gemini: response and per-model stats; error object; non-JSON output", () => {
    const ok = parseGeminiOutput(
      `Loaded cached credentials.\n${JSON.stringify({ response: "Done.", stats: { models: { a: { api: { totalRequests: 2 }, tokens: { prompt: 10, candidates: 3 } }, b: { api: { totalRequests: 1 }, tokens: { prompt: 5, candidates: 1 } } } } })}`,
    );
    expect(ok).toEqual({ summary: "Done.", turns: 3, inputTokens: 15, outputTokens: 4, costUsd: null, error: undefined });
    expect(parseGeminiOutput(JSON.stringify({ error: { type: "ApiError", message: "quota" } })).error).toBe("ApiError: quota");
    expect(parseGeminiOutput("plain text")).toMatchObject({ summary: "", turns: null });
  });

  it("events of an unexpected shape are skipped, never thrown on (the output is the agent's, the parser runs in the bot)", () => {
    const claude = createClaudeStreamParser();
    for (const event of [
      { type: "assistant", message: { content: "not a list" } },
      { type: "assistant", message: null },
      { type: "assistant", message: { content: [null, 7, { type: "text", text: { not: "a string" } }, { type: "text", text: "kept" }] } },
      { type: "result", result: ["not", "text"], usage: { input_tokens: "many" }, num_turns: "x" },
    ]) {
      claude.onLine(JSON.stringify(event));
    }
    expect(claude.parsed()).toMatchObject({ summary: "kept", turns: 3, inputTokens: null });

    const codex = createCodexEventParser();
    for (const event of [
      { type: "item.completed", item: null },
      { type: "item.completed", item: { type: "agent_message", text: { nested: true } } },
      { type: "item.completed", item: { type: ["command_execution"] } },
      { type: "turn.completed", usage: { input_tokens: "12", output_tokens: -5 } },
      { type: "turn.failed", error: null },
    ]) {
      codex.onLine(JSON.stringify(event));
    }
    // The agent_message counts as an action (its text is no string, so no summary); the listed type does not.
    expect(codex.parsed()).toMatchObject({ summary: "", turns: 1, inputTokens: 0, outputTokens: 0, error: "the turn failed" });

    const gemini = parseGeminiOutput(
      JSON.stringify({
        response: { text: "no" },
        stats: { models: { a: null, b: { api: { totalRequests: "2" }, tokens: { prompt: 4 } } } },
      }),
    );
    expect(gemini).toMatchObject({ summary: "", turns: 0, inputTokens: 4, outputTokens: 0 });
    expect(parseGeminiOutput(JSON.stringify({ stats: { models: "x" } }))).toMatchObject({ turns: null });
  });
});

describe("session ids", () => {
  it("passes back only ids shaped like the CLIs' own (UUIDs), never one an argument parser would read as an option", () => {
    expect(sessionIdOf("3f2b8c1e-9a4d-4e1f-8b2a-0c6d5e4f3a21")).toBe("3f2b8c1e-9a4d-4e1f-8b2a-0c6d5e4f3a21");
    for (const bad of ["--mcp-config=/tmp/evil.json", "-x", "a b", "a/../b", "", null, undefined, "x".repeat(200)])
      expect(sessionIdOf(bad)).toBeNull();
  });
});
