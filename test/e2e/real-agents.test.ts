import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GitHubStub } from "../fixtures/github-stub.js";
import { type ScriptedServer, startAnthropicServer } from "../fixtures/model-servers/anthropic.js";
import { startOpenAIServer } from "../fixtures/model-servers/openai.js";
import {
  CANARY_TOKEN,
  calls,
  deliver,
  git,
  makeRemote,
  payload,
  query,
  ROOT,
  type ServerProcess,
  startServer,
  startStub,
  waitFor,
} from "./harness.js";

interface TaskRow {
  id: number;
  state: string;
  agent: string;
  error: string | null;
}
interface RunRow {
  agent: string;
  outcome: string;
  turns: number | null;
  summary: string;
  transcript_path: string;
}

/**
 * The real `claude` and `codex` CLIs behind the real server: `/agent fix` (and `--agent codex`) ->
 * the CLI edits the worktree through tool calls answered by a local scripted model -> draft PR whose
 * body carries the CLI's own summary.
 */
describe("/agent fix with the real Claude Code and Codex CLIs", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-e2e-agents-"));
  const dataDir = path.join(dir, "data");
  let remote: string;
  let stub: GitHubStub;
  let server: ServerProcess;
  let anthropic: ScriptedServer;
  let openai: ScriptedServer;
  /**
   * greet.js in the run's worktree. Each attempt has a worktree path of its own, so the path is
   * read from Claude Code's system prompt (`Working directory: ...`) rather than guessed.
   */
  const greet = (request: { body: string }) => path.join(/Working directory: ([^\s"\\]+)/.exec(request.body)?.[1] ?? "", "greet.js");

  beforeAll(async () => {
    remote = makeRemote(dir, { "greet.js": 'export const greet = () => console.log("Hello world");\n' });
    anthropic = await startAnthropicServer((request, turn) => {
      if (turn === 0) return { text: "Reading greet.js.", toolUses: [{ name: "Read", input: { file_path: greet(request) } }] };
      if (turn === 1)
        return {
          toolUses: [{ name: "Edit", input: { file_path: greet(request), old_string: "Hello world", new_string: "Hello, world!" } }],
        };
      return { text: "Fixed the greeting in greet.js: it now prints Hello, world!" };
    });
    openai = await startOpenAIServer((request, turn) => {
      if (turn > 0) return { text: "Codex fixed the greeting punctuation in greet.js." };
      const tools = new Set(((request.json as { tools?: Array<{ name?: string }> }).tools ?? []).map((t) => t.name));
      const cmd = "sed -i 's/Hello world/Hello, world!/' greet.js";
      return tools.has("exec_command")
        ? { functionCalls: [{ name: "exec_command", arguments: { cmd } }] }
        : { functionCalls: [{ name: "shell", arguments: { command: ["bash", "-lc", cmd] } }] };
    });
    stub = await startStub({ maintainer: "admin" });
    server = await startServer(stub, dataDir, {
      BACKLOG_BOT_AGENTS: "claude-code,codex",
      BACKLOG_BOT_CLAUDE_PATH: path.join(ROOT, "node_modules/.bin/claude"),
      BACKLOG_BOT_CLAUDE_ENV: "ANTHROPIC_API_KEY,ANTHROPIC_BASE_URL",
      ANTHROPIC_API_KEY: "sk-ant-e2e-not-a-real-key",
      ANTHROPIC_BASE_URL: anthropic.url,
      BACKLOG_BOT_CODEX_PATH: path.join(ROOT, "node_modules/.bin/codex"),
      BACKLOG_BOT_CODEX_MODEL: "scripted-model",
      BACKLOG_BOT_CODEX_BASE_URL: `${openai.url}/v1`,
      OPENAI_API_KEY: "sk-e2e-not-a-real-key-0000",
    });
  });

  afterAll(async () => {
    await server?.stop();
    await Promise.all([stub?.close(), anthropic?.close(), openai?.close()]);
  });

  const finished = (id: number) =>
    waitFor(
      () => query<TaskRow>(dataDir, "select * from tasks where id = ? and state not in ('queued', 'running')", id)[0],
      120_000,
      `task ${id}`,
    );

  async function expectPullRequest(taskId: number, agent: string, summary: string, issue: number): Promise<void> {
    const task = await finished(taskId);
    expect(task, task.error ?? "").toMatchObject({ state: "pr_open", agent });
    const [run] = query<RunRow>(dataDir, "select * from runs where task_id = ?", taskId);
    expect(run).toMatchObject({ agent, outcome: "changes", summary });
    expect(run?.turns).toBeGreaterThan(0);
    expect(existsSync(run?.transcript_path ?? "")).toBe(true);
    expect(readFileSync(run?.transcript_path ?? "", "utf8")).not.toContain(CANARY_TOKEN);
    const prs = calls(stub, "POST", /\/pulls$/).map((r) => r.body as { body: string; draft: boolean; head: string });
    const pr = prs.find((p) => p.body.includes(`Fixes #${issue}`));
    expect(pr?.draft).toBe(true);
    expect(pr?.body).toContain(summary);
    expect(pr?.body).toMatch(/\d+ turns/);
    expect(git(remote, "show", `${pr?.head}:greet.js`)).toContain("Hello, world!");
  }

  it("claude-code: the PR body carries Claude's summary and the run row its turns", async () => {
    const body = payload("issue_comment.created", (p) => {
      p.repository.clone_url = `file://${remote}`;
    });
    expect((await deliver(server, "issue_comment", body)).status).toBe(202);
    await expectPullRequest(1, "claude-code", "Fixed the greeting in greet.js: it now prints Hello, world!", 42);
    // The model saw the issue inside the prompt's data section, and never the bot's token.
    const prompts = anthropic.requests.map((r) => JSON.stringify(r.json ?? ""));
    expect(prompts.some((p) => /<issue[^>]*>.*should print `Hello, world!`/.test(p))).toBe(true);
    for (const p of prompts) expect(p).not.toContain(CANARY_TOKEN);
  });

  it("codex: `--agent codex` runs Codex through its custom model provider", async () => {
    const body = payload("issue_comment.created", (p) => {
      p.repository.clone_url = `file://${remote}`;
      p.issue.number = 43;
      p.comment.id = 3002;
      p.comment.body = "/agent fix --agent codex";
    });
    expect((await deliver(server, "issue_comment", body)).status).toBe(202);
    await expectPullRequest(2, "codex", "Codex fixed the greeting punctuation in greet.js.", 43);
    for (const request of openai.requests) expect(JSON.stringify(request.json ?? "")).not.toContain(CANARY_TOKEN);
  });
});
