import path from "node:path";
import { writeConfinedFile } from "../../util/confined-files.js";
import { tailLines } from "../../util/exec.js";
import { type CliInvocation, type ParsedRun, runAgentCli } from "./cli-run.js";
import type { AgentSettings } from "./settings.js";
import type { Agent, AgentRunInput } from "./types.js";

/** The message file aider reads, inside the run's HOME. */
const PROMPT_FILE = "prompt.md";
/** Lines of aider's output kept as its summary: it has no final-message event. */
const SUMMARY_LINES = 15;
/** aider's per-message report, e.g. `Tokens: 2.3k sent, 120 received. Cost: $0.01 message, $0.02 session.` */
const TOKENS_LINE =
  /Tokens:\s*([\d.]+)(k?)\s*sent,\s*([\d.]+)(k?)\s*received\.(?:\s*Cost:\s*\$([\d.]+)\s*message,\s*\$([\d.]+)\s*session)?/g;

/**
 * The command line: one message from a file, every confirmation answered yes, and no commits of
 * its own (the bot commits after its diff policy). Flags: https://aider.chat/docs/config/options.html
 */
export function aiderArgs(settings: AgentSettings["aider"], messageFile: string): string[] {
  const args = ["--message-file", messageFile, "--yes-always", "--no-auto-commits", "--no-dirty-commits", "--no-gitignore"];
  args.push(
    "--no-check-update",
    "--no-analytics",
    "--no-show-release-notes",
    "--no-show-model-warnings",
    "--no-pretty",
    "--no-fancy-input",
  );
  if (settings.model) args.push("--model", settings.model);
  return [...args, ...settings.extraArgs];
}

/**
 * Reads the figures aider prints after each model reply, line by line (so a long run's early
 * figures count even when its output is capped); `1.2k` is 1200 tokens. Turns = model replies.
 */
export function createAiderOutputParser(): { onLine(line: string): void; parsed(stdoutTail: string): ParsedRun } {
  let turns = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  let costUsd: number | null = null;
  return {
    onLine(line) {
      for (const match of line.matchAll(TOKENS_LINE)) {
        turns++;
        inputTokens += Number(match[1]) * (match[2] ? 1000 : 1);
        outputTokens += Number(match[3]) * (match[4] ? 1000 : 1);
        if (match[6] !== undefined) costUsd = Number(match[6]);
      }
    },
    parsed: (stdoutTail) => ({
      summary: tailLines(stdoutTail, SUMMARY_LINES),
      turns: turns || null,
      inputTokens: turns ? Math.round(inputTokens) : null,
      outputTokens: turns ? Math.round(outputTokens) : null,
      costUsd,
    }),
  };
}

/** The aider adapter: `aider --message-file` non-interactive in the worktree. */
export function createAiderAgent(settings: AgentSettings["aider"]): Agent {
  return {
    name: "aider",
    async run(input: AgentRunInput) {
      const messageFile = path.join(input.home, PROMPT_FILE);
      // The HOME is the agent's to write between rounds: never follow a link it left there.
      await writeConfinedFile(input.home, PROMPT_FILE, input.prompt);
      const parser = createAiderOutputParser();
      const invocation: CliInvocation = {
        file: settings.path,
        allowedHosts: settings.allowedHosts,
        args: aiderArgs(settings, messageFile),
        env: { ...settings.env, AIDER_CHECK_UPDATE: "false", AIDER_ANALYTICS: "false" },
        onLine: parser.onLine,
        parsed: parser.parsed,
      };
      return runAgentCli(input, invocation);
    },
  };
}
