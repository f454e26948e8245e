import { createWriteStream } from "node:fs";
import { git } from "../../git/git.js";
import { runSandboxed, type SandboxResult } from "../../sandbox/run.js";
import { BacklogBotError } from "../../util/errors.js";
import { baseEnv, CommandError, tailLines } from "../../util/exec.js";
import { redactSecrets } from "../../util/logger.js";
import type { AgentRunInput, AgentRunResult } from "./types.js";

/** What an adapter learnt from its CLI's output. Figures are null when the CLI does not report them. */
export interface ParsedRun {
  summary: string;
  turns: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  /** Set when the CLI itself reported a failure (e.g. an error result event), even with exit code 0. */
  error?: string | undefined;
  /** The agent stopped at a limit of the task's own (turns, budget): no reason to try another agent. */
  limitReached?: boolean;
  /** The session (thread) id the CLI reported when it opened one. */
  sessionId?: string | null;
  /** Whether the CLI said it opened a session (Claude Code's `system/init`, Codex's `thread.started`); undefined when the adapter cannot tell. */
  sessionStarted?: boolean;
}

/** One invocation of an agent CLI, as an adapter describes it. */
export interface CliInvocation {
  file: string;
  args: string[];
  /** The agent's own variables (model credentials, its config dir); added to `baseEnv()` and the private HOME. */
  env: Record<string, string>;
  /** Written to stdin, which is then closed. */
  stdin?: string;
  /** Sees each stdout line as it arrives (JSON events); must not throw. */
  onLine?: (line: string) => void;
  /** Exit codes that mean the task hit a limit (e.g. Gemini CLI's 53, turn limit), not the agent's failure. */
  limitExitCodes?: number[];
  /** Called once the child has ended, with the tail of stdout (capped at `maxOutputBytes`). */
  parsed: (stdoutTail: string) => ParsedRun;
  /** Hosts the sandbox's proxy lets the agent reach (its model API); see settings.ts. */
  allowedHosts: readonly string[];
}

/** Lines of output quoted in an error message. */
const ERROR_TAIL_LINES = 20;

/** Parses one JSON line, or returns undefined for anything else (banners, partial lines). */
export function parseJsonLine(line: string): Record<string, unknown> | undefined {
  const text = line.trim();
  if (!text.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when the worktree has uncommitted changes; git failing counts as "no changes seen".
 * Submodules are not looked inside (git would run `git status` there with the nested repository's
 * own config, on the host: see src/git/stage.ts).
 */
async function worktreeChanged(worktree: string): Promise<boolean> {
  try {
    const status = await git(["status", "--porcelain", "--ignore-submodules=all"], { cwd: worktree, timeoutMs: 30_000 });
    return status.stdout.trim() !== "";
  } catch {
    return false;
  }
}

/**
 * Runs an agent CLI inside the sandbox (src/sandbox/run.ts), in the worktree, with an environment
 * built from the allowlist, the agent's own variables and the private HOME; streams its stdout (redacted, capped at `maxOutputBytes`) into the
 * transcript and turns the end into an `AgentRunResult`. Never throws for the agent's failures.
 * A failure that left the worktree untouched (binary missing, model service refused, crash before
 * any edit) is an infrastructure failure, so the executor may try the next agent.
 */
export async function runAgentCli(input: AgentRunInput, invocation: CliInvocation): Promise<AgentRunResult> {
  // Appended: a resume that failed and the fresh run after it share the run's transcript.
  const transcript = createWriteStream(input.transcriptPath, { mode: 0o600, flags: "a" });
  // A transcript that cannot be written must not crash the process or fail the run: it is a record, not the work.
  transcript.on("error", () => {});
  const transcriptClosed = new Promise<void>((resolve) => transcript.once("close", () => resolve()));
  let written = 0;
  const record = (text: string): void => {
    if (written >= input.maxOutputBytes) return;
    const safe = redactSecrets(text);
    written += Buffer.byteLength(safe);
    transcript.write(written > input.maxOutputBytes ? `${safe.slice(0, 1000)}\n[transcript truncated]\n` : safe);
  };
  record(`$ ${[invocation.file, ...invocation.args].join(" ")}\n`);
  let exec: SandboxResult | undefined;
  let startError: string | undefined;
  try {
    exec = await runSandboxed(invocation.file, invocation.args, {
      worktree: input.worktree,
      home: input.home,
      allowedHosts: invocation.allowedHosts,
      env: { ...baseEnv(), ...invocation.env, HOME: input.home },
      timeoutMs: input.timeoutMs,
      maxOutputBytes: input.maxOutputBytes,
      signal: input.signal,
      ...(invocation.stdin === undefined ? {} : { input: invocation.stdin }),
      onStdoutLine: (line) => {
        record(`${line}\n`);
        invocation.onLine?.(line);
      },
    });
  } catch (error) {
    startError = error instanceof CommandError || error instanceof BacklogBotError ? error.message : String(error);
  }
  if (exec?.stderr) record(`--- stderr\n${exec.stderr}\n`);
  if (exec?.denials) record(`--- sandbox refused ${exec.denials} connection(s)\n${exec.denialLines.join("\n")}\n`);
  if (startError) record(`${startError}\n`);
  transcript.end();
  await transcriptClosed;

  const parsed = invocation.parsed(exec?.stdout ?? "");
  const base = {
    summary: redactSecrets(parsed.summary),
    turns: parsed.turns,
    inputTokens: parsed.inputTokens,
    outputTokens: parsed.outputTokens,
    costUsd: parsed.costUsd,
    transcriptPath: input.transcriptPath,
    denials: exec?.denials ?? 0,
    sessionId: sessionIdOf(parsed.sessionId),
  };
  if (!exec) {
    return { ...base, outcome: "failed", exitCode: null, error: startError ?? "the agent did not start", infrastructureFailure: true };
  }
  const tail = redactSecrets(tailLines(exec.stderr || exec.stdout, ERROR_TAIL_LINES));
  if (exec.timedOut) {
    const error = `timed out after ${Math.round(input.timeoutMs / 1000)} s; its process tree was killed`;
    return { ...base, outcome: "timeout", exitCode: exec.exitCode, error: tail ? `${error}\n${tail}` : error };
  }
  if (input.signal?.aborted)
    return { ...base, outcome: "failed", exitCode: exec.exitCode, error: "cancelled; the agent's process tree was killed" };
  if (exec.exitCode === 0 && !parsed.error) return { ...base, outcome: "finished", exitCode: 0 };
  const how = exec.signal ? `was killed by ${exec.signal}` : `exited with code ${exec.exitCode}`;
  const error = `${invocation.file} ${how}${parsed.error ? `: ${redactSecrets(parsed.error)}` : ""}\n${tail}`.trimEnd();
  // Asked to resume, it failed without ever opening the session: the session is gone (or was never saved).
  if (input.resume && parsed.sessionStarted === false && !exec.signal) {
    return { ...base, sessionId: null, outcome: "failed", exitCode: exec.exitCode, error, resumeFailed: true };
  }
  const limit = parsed.limitReached === true || (exec.exitCode !== null && (invocation.limitExitCodes ?? []).includes(exec.exitCode));
  return {
    ...base,
    outcome: "failed",
    exitCode: exec.exitCode,
    error,
    infrastructureFailure: !limit && !(await worktreeChanged(input.worktree)),
  };
}

/**
 * A session id fit to pass back as an argument (`--resume <id>`, `exec resume <id>`): Claude Code's
 * and Codex's are UUIDs. Anything else (a value starting with `-` would be read as an option) is
 * dropped, and the next round starts fresh.
 */
export function sessionIdOf(id: string | null | undefined): string | null {
  return id && /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(id) ? id : null;
}
