import { describe, expect, it } from "vitest";
import { createAgentRegistry, resolveAgent } from "../../../../src/executor/agents/registry.js";
import { loadAgentSettings } from "../../../../src/executor/agents/settings.js";
import type { Agent } from "../../../../src/executor/agents/types.js";
import { BacklogBotError } from "../../../../src/util/errors.js";

const names = (agents: Agent[]) => agents.map((agent) => agent.name);

describe("loadAgentSettings", () => {
  it("enables agents in the operator's order, with fallback, paths, models, limits and per-agent variables", () => {
    const s = loadAgentSettings({
      BACKLOG_BOT_AGENTS: "codex, claude-code,aider",
      BACKLOG_BOT_AGENT_FALLBACK: "claude-code,aider",
      BACKLOG_BOT_CLAUDE_PATH: "/opt/claude",
      BACKLOG_BOT_CLAUDE_MODEL: "opus",
      BACKLOG_BOT_CLAUDE_MAX_TURNS: "25",
      BACKLOG_BOT_CLAUDE_ENV: "ANTHROPIC_API_KEY,ANTHROPIC_BASE_URL,UNSET_ONE",
      BACKLOG_BOT_CLAUDE_ARGS: '--append-system-prompt "be brief"',
      BACKLOG_BOT_CODEX_BASE_URL: "http://127.0.0.1:1234/v1",
      ANTHROPIC_API_KEY: "sk-ant-x",
      ANTHROPIC_BASE_URL: "http://proxy",
      OPENAI_API_KEY: "sk-openai",
      GITHUB_TOKEN: "ghs_notforagents000000000000000000000000",
    });
    expect(s.enabled).toEqual(["codex", "claude-code", "aider"]);
    expect(s.fallback).toEqual(["claude-code", "aider"]);
    expect(s.claude).toMatchObject({ path: "/opt/claude", model: "opus", maxTurns: 25, permissionMode: "acceptEdits" });
    expect(s.claude.env).toEqual({ ANTHROPIC_API_KEY: "sk-ant-x", ANTHROPIC_BASE_URL: "http://proxy" });
    expect(s.claude.extraArgs).toEqual(["--append-system-prompt", "be brief"]);
    expect(s.claude.allowedTools).toContain("Edit");
    expect(s.codex).toMatchObject({
      path: "codex",
      baseUrl: "http://127.0.0.1:1234/v1",
      apiKeyEnv: "OPENAI_API_KEY",
      env: { OPENAI_API_KEY: "sk-openai" },
    });
    expect(s.aider.env).toEqual({});
    expect(JSON.stringify(s)).not.toContain("ghs_");
  });

  it("keeps the command-only default when only BACKLOG_BOT_AGENT_COMMAND is set", () => {
    expect(loadAgentSettings({ BACKLOG_BOT_AGENT_COMMAND: "my-agent --fast" }).enabled).toEqual(["command"]);
    expect(loadAgentSettings({}).enabled).toEqual([]);
  });

  it.each([
    [{ BACKLOG_BOT_AGENTS: "claude-code,copilot" }, /BACKLOG_BOT_AGENTS/],
    [{ BACKLOG_BOT_AGENTS: "claude-code", BACKLOG_BOT_AGENT_FALLBACK: "codex" }, /not enabled.*codex/],
    [{ BACKLOG_BOT_AGENTS: "command" }, /BACKLOG_BOT_AGENT_COMMAND/],
    [{ BACKLOG_BOT_CLAUDE_MAX_TURNS: "zero" }, /BACKLOG_BOT_CLAUDE_MAX_TURNS/],
    [{ BACKLOG_BOT_CLAUDE_ENV: "GITHUB_TOKEN" }, /GITHUB_TOKEN may not be passed/],
    [{ BACKLOG_BOT_GEMINI_ENV: "WEBHOOK_SECRET" }, /WEBHOOK_SECRET may not be passed/],
    [{ BACKLOG_BOT_CODEX_ENV: "PRIVATE_KEY" }, /PRIVATE_KEY may not be passed/],
    [{ BACKLOG_BOT_AIDER_ENV: "MY_KEY", MY_KEY: "ghp_abcdefghijklmnopqrstuvwxyz0123456789" }, /looks like a GitHub token/],
  ])("refuses %o", (env, message) => {
    expect(() => loadAgentSettings(env)).toThrow(message);
    expect(() => loadAgentSettings(env)).toThrow(BacklogBotError);
  });
});

describe("registry and resolveAgent", () => {
  const settings = loadAgentSettings({
    BACKLOG_BOT_AGENTS: "claude-code,codex,gemini,command",
    BACKLOG_BOT_AGENT_FALLBACK: "codex,claude-code",
    BACKLOG_BOT_AGENT_COMMAND: "my-agent",
  });
  const registry = createAgentRegistry(settings);

  it("holds only the enabled agents, each its own adapter", () => {
    expect(registry.enabled).toEqual(["claude-code", "codex", "gemini", "command"]);
    expect(registry.get("aider")).toBeUndefined();
    expect(["claude-code", "codex", "gemini", "command"].map((n) => registry.get(n)?.name)).toEqual([
      "claude-code",
      "codex",
      "gemini",
      "command",
    ]);
  });

  it("chooses requested, else the repository's default, else the operator's first; then the fallback list minus itself", () => {
    const pick = (requested?: string | null, repo?: string | null) => {
      const choice = resolveAgent(registry, requested, repo);
      if ("error" in choice) throw new Error(choice.error);
      return names(choice.agents);
    };
    expect(pick()).toEqual(["claude-code", "codex"]);
    expect(pick(null, "gemini")).toEqual(["gemini", "codex", "claude-code"]);
    expect(pick("codex", "gemini")).toEqual(["codex", "claude-code"]);
    expect(pick("command")).toEqual(["command", "codex", "claude-code"]);
  });

  it("answers an unknown or disabled agent with the list of enabled ones", () => {
    expect(resolveAgent(registry, "aider")).toEqual({
      error: "Agent `aider` is not enabled here. Enabled agents: claude-code, codex, gemini, command.",
    });
    expect(resolveAgent(registry, null, "copilot")).toMatchObject({
      error: expect.stringContaining("Enabled agents: claude-code, codex, gemini, command"),
    });
    const empty = createAgentRegistry(loadAgentSettings({}));
    expect(resolveAgent(empty)).toEqual({
      error: "Agent `(none)` is not enabled here. Enabled agents: none (the operator has enabled no agent).",
    });
  });

  it("accepts overrides for enabled names only", () => {
    const fake: Agent = { name: "claude-code", run: async () => ({}) as never };
    const withFake = createAgentRegistry(settings, { "claude-code": fake, aider: fake });
    expect(withFake.get("claude-code")).toBe(fake);
    expect(withFake.get("aider")).toBeUndefined();
  });
});
