import path from "node:path";
import { sandboxMode } from "../../sandbox/status.js";
import { readConfinedFile, writeConfinedFile } from "../../util/confined-files.js";
import { type CliInvocation, type ParsedRun, parseJsonLine, runAgentCli } from "./cli-run.js";
import type { AgentSettings } from "./settings.js";
import type { Agent, AgentRunInput, AgentRunResult } from "./types.js";

type CodexSettings = AgentSettings["codex"];

/** Where Codex talks when the operator gives no base URL. */
const OPENAI_BASE_URL = "https://api.openai.com/v1";
/** Item types that are the model's own actions; their count stands in for turns (Codex reports none). */
const ACTION_ITEMS = new Set(["agent_message", "command_execution", "file_change", "mcp_tool_call", "web_search"]);

/** TOML basic strings share JSON's escapes for everything a URL, model name or variable name holds. */
const toml = (value: string): string => JSON.stringify(value);

/**
 * The run's private `config.toml`. Codex ignores `OPENAI_BASE_URL`, so the endpoint is always a
 * custom `model_provider` with `base_url`, reading its key from the variable `env_key` names.
 * Keys: https://github.com/openai/codex/blob/main/docs/config.md
 */
export function codexConfig(settings: CodexSettings, sandboxed = true): string {
  const lines = [
    ...(settings.model ? [`model = ${toml(settings.model)}`] : []),
    'model_provider = "backlog-bot"',
    'approval_policy = "never"',
    // Inside backlog-bot's sandbox Codex's own is off: a bubblewrap sandbox nested in ours cannot
    // set itself up, so its shell tool would edit nothing. Ours confines it (docs/agents.md).
    // Without ours (BACKLOG_BOT_SANDBOX=off) Codex's own workspace-write sandbox is all there is.
    `sandbox_mode = ${sandboxed ? '"danger-full-access"' : '"workspace-write"'}`,
    "check_for_update_on_startup = false",
    "",
    "[model_providers.backlog-bot]",
    'name = "backlog-bot"',
    `base_url = ${toml(settings.baseUrl ?? OPENAI_BASE_URL)}`,
    `env_key = ${toml(settings.apiKeyEnv)}`,
    'wire_api = "responses"',
    "",
    "[history]",
    'persistence = "none"',
    "",
  ];
  return lines.join("\n");
}

/**
 * The command line; `-` makes Codex read the prompt from stdin. With `resume`,
 * `codex exec resume [OPTIONS] <SESSION_ID> -` continues that thread with the prompt as its next
 * turn (syntax: `codex exec resume --help`, codex-cli 0.169.0). Extra arguments go to both forms;
 * one that `exec resume` does not take (`--sandbox`, `--cd`, `--color`) makes the resume fail, and
 * the round falls back to a fresh run.
 */
export function codexArgs(settings: CodexSettings, resume?: string): string[] {
  const options = ["--json", "--skip-git-repo-check", ...settings.extraArgs];
  return resume ? ["exec", "resume", ...options, resume, "-"] : ["exec", ...options, "-"];
}

/** A token count from the agent's output: a finite non-negative number, else 0. */
const count = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0);

/**
 * Reads `codex exec --json` events: `thread.started` (with the `thread_id` a resume names),
 * `item.completed` (agent_message, command_execution, file_change, ...), `turn.completed` with
 * `usage`, `turn.failed` and `error`. A resume of a thread that is gone exits 1 before
 * `thread.started` ("no rollout found for thread id"): `sessionStarted` is then false.
 */
export function createCodexEventParser(): { onLine(line: string): void; parsed(): ParsedRun } {
  let threadId: string | null = null;
  let started = false;
  let lastText = "";
  let actions = 0;
  let inputTokens: number | null = null;
  let outputTokens: number | null = null;
  let error: string | undefined;
  return {
    onLine(line) {
      const event = parseJsonLine(line);
      if (!event) return;
      if (event.type === "thread.started") {
        started = true;
        if (typeof event.thread_id === "string") threadId = event.thread_id;
      } else if (event.type === "item.completed") {
        const item = (event.item ?? {}) as { type?: unknown; text?: unknown };
        if (typeof item.type === "string" && ACTION_ITEMS.has(item.type)) actions++;
        if (item.type === "agent_message" && typeof item.text === "string" && item.text) lastText = item.text;
      } else if (event.type === "turn.completed") {
        const usage = (event.usage ?? {}) as { input_tokens?: unknown; output_tokens?: unknown };
        inputTokens = (inputTokens ?? 0) + count(usage.input_tokens);
        outputTokens = (outputTokens ?? 0) + count(usage.output_tokens);
      } else if (event.type === "turn.failed") {
        const message = (event.error as { message?: unknown } | null | undefined)?.message;
        error = typeof message === "string" ? message : "the turn failed";
      } else if (event.type === "error") {
        error = typeof event.message === "string" ? event.message : "Codex reported an error";
      }
    },
    parsed: () => ({
      summary: lastText,
      turns: actions || null,
      inputTokens,
      outputTokens,
      costUsd: null,
      error,
      sessionId: threadId,
      sessionStarted: started,
    }),
  };
}

/** `CODEX_HOME`, relative to the run's HOME. */
const CODEX_DIR = ".codex";
/** Where the adapter keeps each thread's token totals at the end of its last run, inside `CODEX_HOME`. */
const USAGE_FILE = `${CODEX_DIR}/backlog-bot-usage.json`;
/** A usage file larger than this (bytes) is not the adapter's: read as none. */
const MAX_USAGE_BYTES = 1024 * 1024;
type Totals = Record<string, { input: number; output: number }>;

/** The recorded totals; none when the file is missing, not JSON, or not a real file inside `home` (symlinks are not followed). */
async function readTotals(home: string): Promise<Totals> {
  try {
    const value: unknown = JSON.parse((await readConfinedFile(home, USAGE_FILE, MAX_USAGE_BYTES)) ?? "{}");
    return value && typeof value === "object" ? (value as Totals) : {};
  } catch {
    return {};
  }
}

/**
 * A resumed thread's `turn.completed` usage counts the whole thread (measured with codex-cli
 * 0.169.0: a resume that made one request reported the tokens of both runs), so the run's own
 * figures are the totals minus those recorded at the end of the thread's previous run.
 */
async function ownUsage(home: string, result: AgentRunResult, resumed: string | undefined): Promise<AgentRunResult> {
  if (!result.sessionId || result.inputTokens === null) return result;
  const totals = await readTotals(home);
  const before = resumed === result.sessionId ? totals[result.sessionId] : undefined;
  totals[result.sessionId] = { input: result.inputTokens, output: result.outputTokens ?? 0 };
  await writeConfinedFile(home, USAGE_FILE, JSON.stringify(totals)).catch(() => {});
  if (!before) return result;
  return {
    ...result,
    inputTokens: Math.max(0, result.inputTokens - before.input),
    outputTokens: result.outputTokens === null ? null : Math.max(0, result.outputTokens - before.output),
  };
}

/**
 * The Codex adapter: `codex exec --json` (or `codex exec resume <thread>` to continue a round)
 * with its own `CODEX_HOME` (inside the attempt's private HOME, so nothing from another task or the
 * operator's account is read, and its sessions survive between rounds), writing only in the worktree.
 */
export function createCodexAgent(settings: CodexSettings): Agent {
  return {
    name: "codex",
    resumable: true,
    async run(input: AgentRunInput) {
      const codexHome = path.join(input.home, CODEX_DIR);
      // The HOME is the agent's to write between rounds: never follow a link it left there.
      await writeConfinedFile(input.home, `${CODEX_DIR}/config.toml`, codexConfig(settings, sandboxMode() === "on"));
      const parser = createCodexEventParser();
      const env = { ...settings.env, CODEX_HOME: codexHome };
      const invocation: CliInvocation = {
        file: settings.path,
        allowedHosts: settings.allowedHosts,
        args: codexArgs(settings, input.resume),
        env,
        stdin: input.prompt,
        onLine: parser.onLine,
        parsed: parser.parsed,
      };
      return ownUsage(input.home, await runAgentCli(input, invocation), input.resume);
    },
  };
}
