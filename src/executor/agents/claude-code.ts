import { type CliInvocation, type ParsedRun, parseJsonLine, runAgentCli } from "./cli-run.js";
import type { AgentSettings } from "./settings.js";
import type { Agent, AgentRunInput } from "./types.js";

type ClaudeSettings = AgentSettings["claude"];

/**
 * The command line for one headless run; the prompt goes on stdin (no argument-length limit, not
 * visible in `ps`). With `resume`, `--resume <session id>` continues that session (same id: no
 * `--fork-session`) and the prompt is its next turn. Flags: https://docs.anthropic.com/en/docs/claude-code/cli-reference
 */
export function claudeArgs(settings: ClaudeSettings, resume?: string): string[] {
  const args = ["-p", ...(resume ? ["--resume", resume] : [])];
  args.push("--output-format", "stream-json", "--verbose", "--permission-mode", settings.permissionMode);
  if (settings.model) args.push("--model", settings.model);
  if (settings.maxTurns) args.push("--max-turns", String(settings.maxTurns));
  if (settings.maxBudgetUsd) args.push("--max-budget-usd", String(settings.maxBudgetUsd));
  // --allowedTools is variadic: one comma-joined value, followed by an option, so it eats nothing else.
  args.push("--allowedTools", settings.allowedTools.join(","));
  return [...args, ...settings.extraArgs];
}

/**
 * Reads Claude Code's `stream-json` events: `system/init` (with the `session_id`), `assistant`
 * (text and tool_use), `user` (tool results) and the final `result` with `num_turns`, `usage`,
 * `total_cost_usd` and the `session_id` again. Input tokens include cache reads and writes, which
 * are billed input too. A `--resume` of a session that is gone ends with an error `result` (it
 * echoes the asked id) and no `system/init`: `sessionStarted` is then false and no id is reported.
 */
export function createClaudeStreamParser(): { onLine(line: string): void; parsed(): ParsedRun } {
  let lastText = "";
  let assistantTurns = 0;
  let result: Record<string, unknown> | undefined;
  let initSession: string | null = null;
  let started = false;
  return {
    onLine(line) {
      const event = parseJsonLine(line);
      if (!event) return;
      if (event.type === "system" && event.subtype === "init") {
        started = true;
        if (typeof event.session_id === "string") initSession = event.session_id;
      } else if (event.type === "assistant") {
        assistantTurns++;
        // The shape is the agent's to get wrong: only a list of blocks with string texts is read.
        const content: unknown = (event.message as { content?: unknown } | null | undefined)?.content;
        const text = (Array.isArray(content) ? content : [])
          .filter((block): block is { text: string } => block?.type === "text" && typeof block.text === "string" && block.text !== "")
          .map((block) => block.text)
          .join("\n");
        if (text) lastText = text;
      } else if (event.type === "result") {
        result = event;
      }
    },
    parsed() {
      const usage = (result?.usage ?? {}) as Record<string, unknown>;
      const num = (value: unknown): number => (typeof value === "number" ? value : 0);
      const hasUsage = typeof usage.input_tokens === "number";
      const summary = typeof result?.result === "string" && result.result ? result.result : lastText;
      const failed = result?.is_error === true || (typeof result?.subtype === "string" && result.subtype !== "success");
      return {
        summary,
        turns: typeof result?.num_turns === "number" ? result.num_turns : assistantTurns || null,
        inputTokens: hasUsage
          ? num(usage.input_tokens) + num(usage.cache_read_input_tokens) + num(usage.cache_creation_input_tokens)
          : null,
        outputTokens: hasUsage ? num(usage.output_tokens) : null,
        costUsd: typeof result?.total_cost_usd === "number" ? result.total_cost_usd : null,
        error: failed ? `Claude Code ended with ${String(result?.subtype ?? "an error")}${summary ? `: ${summary}` : ""}` : undefined,
        limitReached: typeof result?.subtype === "string" && result.subtype.startsWith("error_max_"),
        sessionId: initSession ?? (started && typeof result?.session_id === "string" ? result.session_id : null),
        sessionStarted: started,
      };
    },
  };
}

/**
 * The Claude Code adapter: `claude -p` headless, edits allowed in the worktree (acceptEdits) for
 * the allowlisted tools only. Telemetry, error reporting and auto-update are switched off: a bot's
 * run talks to the model service and nothing else.
 */
export function createClaudeCodeAgent(settings: ClaudeSettings): Agent {
  return {
    name: "claude-code",
    resumable: true,
    run(input: AgentRunInput) {
      const parser = createClaudeStreamParser();
      // A few retries ride out a hiccup; the CLI's default ten, with backoff, would hold a refused key for minutes before the fallback agent gets its turn.
      const env: Record<string, string> = {
        CLAUDE_CODE_MAX_RETRIES: "3",
        ...settings.env,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_AUTOUPDATER: "1",
      };
      // Claude Code refuses to bypass permissions as root unless told it is in a sandbox.
      if (settings.permissionMode === "bypassPermissions" && process.getuid?.() === 0) env.IS_SANDBOX = "1";
      const invocation: CliInvocation = {
        file: settings.path,
        allowedHosts: settings.allowedHosts,
        args: claudeArgs(settings, input.resume),
        env,
        stdin: input.prompt,
        onLine: parser.onLine,
        parsed: parser.parsed,
      };
      return runAgentCli(input, invocation);
    },
  };
}
