import { writeConfinedFile } from "../../util/confined-files.js";
import { type CliInvocation, type ParsedRun, runAgentCli } from "./cli-run.js";
import type { AgentSettings } from "./settings.js";
import type { Agent, AgentRunInput } from "./types.js";

/**
 * Gemini CLI prepends piped stdin to the `-p` text, so the prompt (of any length, unlike one
 * argument, which Linux caps at 128 KiB) goes on stdin and `-p` only points at it.
 */
const PROMPT_POINTER = "Carry out the task given in this input.";
/** Gemini CLI's exit code when the session hit its turn limit (https://geminicli.com/docs/cli/headless/). */
const GEMINI_TURN_LIMIT_EXIT = 53;
/** Usage statistics off and no auto-update: the run talks to the model service only. */
const SETTINGS_JSON = `${JSON.stringify({ privacy: { usageStatisticsEnabled: false }, telemetry: { enabled: false }, general: { disableAutoUpdate: true } }, null, 2)}\n`;

/**
 * The command line: headless (`-p`), every tool call approved (`--yolo`: it must run the tests; the
 * worktree is disposable and the bot reviews the diff), one JSON object on stdout.
 * Flags: https://geminicli.com/docs/cli/headless/
 */
export function geminiArgs(settings: AgentSettings["gemini"]): string[] {
  const args = ["-p", PROMPT_POINTER, "--yolo", "--output-format", "json"];
  if (settings.model) args.push("--model", settings.model);
  return [...args, ...settings.extraArgs];
}

interface GeminiOutput {
  response?: string;
  stats?: { models?: Record<string, { api?: { totalRequests?: number }; tokens?: { prompt?: number; candidates?: number } }> };
  error?: { type?: string; message?: string; code?: number | string };
}

/** Reads `--output-format json`: `response`, `stats.models[*].tokens`/`.api.totalRequests`, `error`. */
export function parseGeminiOutput(stdout: string): ParsedRun {
  const start = stdout.indexOf("{");
  let output: GeminiOutput | undefined;
  try {
    output = start >= 0 ? (JSON.parse(stdout.slice(start)) as GeminiOutput) : undefined;
  } catch {
    output = undefined;
  }
  // The shape is the agent's to get wrong: only numbers are summed, and only a string is the summary.
  const stats = output?.stats?.models;
  const models = stats && typeof stats === "object" ? Object.values(stats).filter((m) => m && typeof m === "object") : [];
  const sum = (pick: (m: (typeof models)[number]) => unknown): number | null =>
    models.length
      ? models.reduce((total, m) => {
          const value = pick(m);
          return total + (typeof value === "number" ? value : 0);
        }, 0)
      : null;
  return {
    summary: typeof output?.response === "string" ? output.response : "",
    turns: sum((m) => m.api?.totalRequests),
    inputTokens: sum((m) => m.tokens?.prompt),
    outputTokens: sum((m) => m.tokens?.candidates),
    costUsd: null,
    error: output?.error ? `${output.error.type ?? "error"}: ${output.error.message ?? ""}` : undefined,
  };
}

/** The Gemini CLI adapter, with a private `~/.gemini/settings.json` in the run's HOME. */
export function createGeminiAgent(settings: AgentSettings["gemini"]): Agent {
  return {
    name: "gemini",
    async run(input: AgentRunInput) {
      // The HOME is the agent's to write between rounds: never follow a link it left there.
      await writeConfinedFile(input.home, ".gemini/settings.json", SETTINGS_JSON);
      const invocation: CliInvocation = {
        file: settings.path,
        allowedHosts: settings.allowedHosts,
        args: geminiArgs(settings),
        env: settings.env,
        stdin: input.prompt,
        limitExitCodes: [GEMINI_TURN_LIMIT_EXIT],
        parsed: parseGeminiOutput,
      };
      return runAgentCli(input, invocation);
    },
  };
}
