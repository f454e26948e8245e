import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClaudeCodeAgent } from "../../../src/executor/agents/claude-code.js";
import { createCodexAgent } from "../../../src/executor/agents/codex.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import { createWorktree, syncMirror } from "../../../src/git/workspace.js";
import { configureSandbox } from "../../../src/sandbox/status.js";
import { cloneBare, commitFiles, initRepo, makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { startAnthropicServer } from "../../fixtures/model-servers/anthropic.js";
import { startRecordingServer } from "../../fixtures/model-servers/http.js";
import { startOpenAIServer } from "../../fixtures/model-servers/openai.js";

const CLAUDE = path.resolve("node_modules/.bin/claude");
const CODEX = path.resolve("node_modules/.bin/codex");
/**
 * What the agents' shell tools run: the edit, then two probes of what lies outside the sandbox. The
 * markers are split by quotes so that only their output (never the echoed command) holds them whole.
 */
const PROBE = (pid: number, secret: string) =>
  `sed -i 's/hello world/hello agent/' hello.txt; cat /proc/${pid}/environ >/dev/null 2>&1 && echo "SERVER-ENV-""READABLE"; cat ${secret} 2>/dev/null || echo "SECRET-""HIDDEN"`;

/** Every string inside a JSON value, joined. */
function strings(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(strings).join("\n");
  if (value && typeof value === "object") return Object.values(value).map(strings).join("\n");
  return "";
}

/**
 * Issue 11: the real Claude Code and Codex CLIs complete scripted runs inside backlog-bot's sandbox,
 * in a real worktree of a mirror, reaching only their local scripted model server (allowlisted by
 * default from their base URL); the bubblewrap sandbox of Codex's own stays off inside ours.
 */
describe("real agent CLIs inside the sandbox", () => {
  const root = makeTempDir("backlog-bot-real-sandboxed-");
  const dataDir = path.join(root, "data");
  const secret = path.join(dataDir, "planted-secret.txt");
  let mirror: string;
  let attempt = 0;
  const decoy = startRecordingServer(() => false);

  beforeAll(async () => {
    configureSandbox({ mode: "on", hidden: [dataDir] });
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(secret, "planted-secret-value\n");
    const work = initRepo();
    commitFiles(work, { "hello.txt": "hello world\n" });
    mirror = await syncMirror({ dataDir, fullName: "o/r", cloneUrl: cloneBare(work), defaultBranch: "main" });
  });
  afterAll(async () => {
    await (await decoy).close();
    removeDir(root);
  });

  async function workspace(): Promise<{ worktree: string; home: string; file: string }> {
    attempt++;
    const { worktree } = await createWorktree(mirror, dataDir, 1, "backlog-bot/t", "main", attempt);
    const home = path.join(dataDir, "homes", `run-${attempt}`);
    mkdirSync(home, { recursive: true });
    return { worktree, home, file: path.join(worktree, "hello.txt") };
  }

  it("Claude Code edits through its Bash tool, sees neither the server's environment nor the planted secret", async () => {
    const { worktree, home, file } = await workspace();
    const other = await decoy;
    const server = await startAnthropicServer([
      {
        toolUses: [
          { name: "Bash", input: { command: `${PROBE(process.pid, secret)}; curl -s -m 3 ${other.url}/ || true`, description: "edit" } },
        ],
      },
      { text: "Greeted the agent." },
    ]);
    try {
      const settings = loadAgentSettings({
        BACKLOG_BOT_CLAUDE_PATH: CLAUDE,
        BACKLOG_BOT_CLAUDE_ENV: "ANTHROPIC_API_KEY,ANTHROPIC_BASE_URL",
        ANTHROPIC_API_KEY: "sk-ant-test-not-a-real-key",
        ANTHROPIC_BASE_URL: server.url,
      });
      const result = await createClaudeCodeAgent(settings.claude).run({
        prompt: "Make hello.txt greet the agent.",
        worktree,
        home,
        transcriptPath: path.join(root, `claude-${attempt}.log`),
        timeoutMs: 120_000,
        maxOutputBytes: 1024 * 1024,
      });
      expect(result.outcome, result.error).toBe("finished");
      expect(readFileSync(file, "utf8")).toBe("hello agent\n");
      const toolResult = strings(server.requests.at(-1)?.json);
      expect(toolResult).toContain("SECRET-HIDDEN");
      expect(toolResult).not.toContain("SERVER-ENV-READABLE");
      expect(toolResult).not.toContain("planted-secret-value");
      expect(other.requests).toEqual([]); // the decoy was never reached
    } finally {
      await server.close();
    }
  });

  it("Codex (its own sandbox off inside ours) edits through its shell tool with the same limits", async () => {
    const { worktree, home, file } = await workspace();
    const server = await startOpenAIServer((request, turn) => {
      if (turn > 0) return { text: "Codex greeted the agent." };
      const tools = new Set(((request.json as { tools?: Array<{ name?: string }> }).tools ?? []).map((t) => t.name));
      const cmd = PROBE(process.pid, secret);
      return tools.has("exec_command")
        ? { functionCalls: [{ name: "exec_command", arguments: { cmd } }] }
        : { functionCalls: [{ name: "shell", arguments: { command: ["bash", "-lc", cmd] } }] };
    });
    try {
      const settings = loadAgentSettings({
        BACKLOG_BOT_CODEX_PATH: CODEX,
        BACKLOG_BOT_CODEX_MODEL: "scripted-model",
        BACKLOG_BOT_CODEX_BASE_URL: `${server.url}/v1`,
        OPENAI_API_KEY: "sk-test-not-a-real-key-0000",
      });
      expect(settings.codex.allowedHosts).toEqual([new URL(server.url).host]);
      const result = await createCodexAgent(settings.codex).run({
        prompt: "Make hello.txt greet the agent.",
        worktree,
        home,
        transcriptPath: path.join(root, `codex-${attempt}.log`),
        timeoutMs: 120_000,
        maxOutputBytes: 1024 * 1024,
      });
      expect(result.outcome, result.error).toBe("finished");
      expect(readFileSync(file, "utf8")).toBe("hello agent\n");
      expect(readFileSync(path.join(home, ".codex", "config.toml"), "utf8")).toContain('sandbox_mode = "danger-full-access"');
      const second = server.requests.filter((r) => r.path.endsWith("/responses"))[1]?.body ?? "";
      expect(second).toContain("SECRET-HIDDEN");
      expect(second).not.toContain("SERVER-ENV-READABLE");
      // Codex also tries its vendor's hosts (update and feature checks): refused and counted, never the model server.
      const denied = readFileSync(result.transcriptPath, "utf8")
        .split("\n")
        .filter((line) => line.startsWith("deny network-outbound"));
      expect(denied.length).toBeGreaterThanOrEqual(Math.min(result.denials ?? 0, 20));
      for (const line of denied) expect(line).not.toContain(new URL(server.url).host);
    } finally {
      await server.close();
    }
  });
});
