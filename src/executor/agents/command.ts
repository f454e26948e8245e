import { writeFile } from "node:fs/promises";
import path from "node:path";
import { runSandboxed, type SandboxResult } from "../../sandbox/run.js";
import { writeConfinedFile } from "../../util/confined-files.js";
import { BacklogBotError } from "../../util/errors.js";
import { baseEnv, CommandError, tailLines } from "../../util/exec.js";
import { redactSecrets } from "../../util/logger.js";
import { splitArgs } from "./split-args.js";
import type { Agent, AgentRunInput, AgentRunResult } from "./types.js";

/** The prompt file (`BACKLOG_BOT_PROMPT_FILE`), inside the run's HOME. */
const PROMPT_FILE = "prompt.md";
/** Lines of the agent's stdout kept as its summary when it prints no explicit one. */
const SUMMARY_LINES = 15;

/**
 * The generic command agent: an operator-configured command line, run (without a shell) in the
 * worktree, with the prompt on stdin and in the file named by `BACKLOG_BOT_PROMPT_FILE`. Its
 * summary is the tail of its stdout; its transcript is stdout and stderr.
 * @param commandLine - e.g. `my-agent --fast`; split like a shell would split it (quotes honoured), never run by one.
 * @param extraEnv - operator-configured variables for this agent only (its model credentials).
 * @param allowedHosts - hosts the sandbox's proxy lets it reach (BACKLOG_BOT_AGENT_ALLOWED_HOSTS).
 */
export function createCommandAgent(
  commandLine: string,
  extraEnv: Record<string, string> = {},
  allowedHosts: readonly string[] = [],
): Agent {
  const [file, ...args] = splitArgs(commandLine);
  if (!file) throw new BacklogBotError("INVALID_SETTINGS", "the command agent needs a command line (BACKLOG_BOT_AGENT_COMMAND)");
  return {
    name: "command",
    async run(input: AgentRunInput): Promise<AgentRunResult> {
      const promptFile = path.join(input.home, PROMPT_FILE);
      // The HOME is the agent's to write between rounds: never follow a link it left there.
      await writeConfinedFile(input.home, PROMPT_FILE, input.prompt);
      const base = { turns: null, inputTokens: null, outputTokens: null, costUsd: null, transcriptPath: input.transcriptPath, denials: 0 };
      let result: SandboxResult;
      try {
        result = await runSandboxed(file, args, {
          worktree: input.worktree,
          home: input.home,
          allowedHosts,
          env: { ...baseEnv(), ...extraEnv, HOME: input.home, BACKLOG_BOT_PROMPT_FILE: promptFile },
          input: input.prompt,
          timeoutMs: input.timeoutMs,
          maxOutputBytes: input.maxOutputBytes,
          signal: input.signal,
        });
      } catch (error) {
        const message = error instanceof CommandError || error instanceof BacklogBotError ? error.message : String(error);
        await writeFile(input.transcriptPath, `${message}\n`);
        return { ...base, outcome: "failed", exitCode: null, summary: "", error: message, infrastructureFailure: true };
      }
      await writeFile(
        input.transcriptPath,
        redactSecrets(
          `$ ${commandLine}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}\n${result.denials ? `--- sandbox refused ${result.denials} connection(s)\n${result.denialLines.join("\n")}\n` : ""}`,
        ),
        { mode: 0o600 },
      );
      const summary = tailLines(result.stdout, SUMMARY_LINES);
      base.denials = result.denials;
      if (result.timedOut) {
        const error = `timed out after ${Math.round(input.timeoutMs / 1000)} s; its process tree was killed`;
        return {
          ...base,
          outcome: "timeout",
          exitCode: result.exitCode,
          summary,
          error: `${error}\n${tailLines(result.stderr || result.stdout)}`,
        };
      }
      if (result.exitCode !== 0) {
        const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
        return {
          ...base,
          outcome: "failed",
          exitCode: result.exitCode,
          summary,
          error: `${file} ${how}\n${tailLines(result.stderr || result.stdout)}`,
        };
      }
      return { ...base, outcome: "finished", exitCode: 0, summary };
    },
  };
}
