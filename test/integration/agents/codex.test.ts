import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { codexConfig, createCodexAgent } from "../../../src/executor/agents/codex.js";
import { preparePrompt } from "../../../src/executor/agents/prompt/index.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import { startRecordingServer } from "../../fixtures/model-servers/http.js";
import { type OpenAITurn, type ScriptedServer, startOpenAIServer } from "../../fixtures/model-servers/openai.js";
import { leakedCanaries, makeRun, plantCanaries, readText } from "./helpers.js";

const CODEX = path.resolve("node_modules/.bin/codex");
const EDIT_AND_DUMP_ENV = "sed -i s/world/agent/ hello.txt && env";

/** A shell tool call in whichever form this Codex version offers (`exec_command` or the older `shell`). */
function shellCall(tools: Array<{ name?: string }>): OpenAITurn {
  const names = new Set(tools.map((tool) => tool.name));
  if (names.has("exec_command")) return { functionCalls: [{ name: "exec_command", arguments: { cmd: EDIT_AND_DUMP_ENV } }] };
  return { functionCalls: [{ name: "shell", arguments: { command: ["bash", "-lc", EDIT_AND_DUMP_ENV] } }] };
}

describe("codex adapter with the real codex CLI", () => {
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

  it("edits a file through a shell tool call via a custom model provider, and leaks no bot secret", async () => {
    const run = await makeRun();
    cleanup = run.cleanup;
    run.input.prompt = await preparePrompt({
      kind: "issue",
      triggeredAt: new Date().toISOString(),
      owner: "o",
      repo: "r",
      repository: "o/r",
      issueNumber: 9,
      title: "Greet the agent",
      body: "ISSUE-MARKER-77: hello.txt should say hello agent.",
      worktree: run.input.worktree,
    });
    server = await startOpenAIServer((request, turn) => {
      if (turn === 0) return shellCall((request.json as { tools?: Array<{ name?: string }> }).tools ?? []);
      return { text: "Replaced world with agent in hello.txt." };
    });
    const settings = loadAgentSettings({
      ...process.env,
      BACKLOG_BOT_AGENTS: "codex",
      BACKLOG_BOT_CODEX_PATH: CODEX,
      BACKLOG_BOT_CODEX_MODEL: "scripted-model",
      BACKLOG_BOT_CODEX_BASE_URL: `${server.url}/v1`,
      OPENAI_API_KEY: "sk-test-not-a-real-key-0000",
    });
    const result = await createCodexAgent(settings.codex).run(run.input);

    expect(result.outcome, result.error).toBe("finished");
    expect(await readText(run.file)).toBe("hello agent\n");
    expect(result.summary).toBe("Replaced world with agent in hello.txt.");
    expect(result.turns).toBe(2);
    expect(result.inputTokens).toBe(240);
    expect(result.outputTokens).toBe(60);
    expect(existsSync(result.transcriptPath)).toBe(true);
    const config = await readFile(path.join(run.input.home, ".codex", "config.toml"), "utf8");
    expect(config).toBe(codexConfig(settings.codex));
    expect(config).toContain(`base_url = "${server.url}/v1"`);

    const responses = server.requests.filter((r) => r.path.endsWith("/responses"));
    expect(responses.length).toBe(2);
    expect(responses[0]?.body).toMatch(/<issue_body number=\\"9\\">\\n[^<]*ISSUE-MARKER-77[^<]*\\n<\/issue_body>/);
    expect(responses[0]?.headers.authorization).toBe("Bearer sk-test-not-a-real-key-0000");
    // The tool output (the agent's whole environment) travelled back in the second request.
    expect(responses[1]?.body).toContain(`HOME=${run.input.home}`);
    for (const request of server.requests) expect(leakedCanaries(request.body + JSON.stringify(request.headers))).toEqual([]);
    expect(leakedCanaries(await readText(result.transcriptPath))).toEqual([]);
  });

  it("reports a model service that refuses the key as an infrastructure failure", async () => {
    const run = await makeRun();
    cleanup = run.cleanup;
    server = await startRecordingServer((_request, res) => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { type: "invalid_request_error", code: "invalid_api_key", message: "Incorrect API key" } }));
      return true;
    });
    const settings = loadAgentSettings({
      BACKLOG_BOT_CODEX_PATH: CODEX,
      BACKLOG_BOT_CODEX_BASE_URL: `${server.url}/v1`,
      OPENAI_API_KEY: "sk-test-refused",
    });
    const result = await createCodexAgent(settings.codex).run(run.input);
    expect(result).toMatchObject({ outcome: "failed", exitCode: 1, infrastructureFailure: true });
    expect(result.error).toContain("401");
    expect(await readText(run.file)).toBe("hello world\n");
  });

  it("reports a missing binary as an infrastructure failure", async () => {
    const run = await makeRun();
    cleanup = run.cleanup;
    const settings = loadAgentSettings({ BACKLOG_BOT_CODEX_PATH: path.join(run.root, "no-such-codex") });
    const result = await createCodexAgent(settings.codex).run(run.input);
    expect(result).toMatchObject({ outcome: "failed", infrastructureFailure: true });
  });
});
