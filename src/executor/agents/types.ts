import type { RunOutcome } from "../../store/schema.js";

/**
 * One agent attempt's inputs. The agent runs inside `worktree` (its working directory) and must
 * not touch anything outside it; `home` is a fresh private HOME for this run only.
 */
export interface AgentRunInput {
  /** The full prompt (already sanitised and fenced; see prompt/build.ts). */
  prompt: string;
  /** Absolute path of the git worktree to edit. */
  worktree: string;
  /** Absolute path of a private, empty HOME directory created for this run. */
  home: string;
  /** Where the transcript (JSON lines or plain text) must be written. */
  transcriptPath: string;
  /** Wall-clock limit (ms); the whole process tree is killed when it expires. */
  timeoutMs: number;
  /** Cap on captured output per stream (bytes). */
  maxOutputBytes: number;
  /** Aborted when the task is cancelled or the process shuts down. */
  signal?: AbortSignal;
}

/** What an attempt produced. Figures are null when the agent's CLI does not report them. */
export interface AgentRunResult {
  /** `changes`/`no_changes` are decided later from the worktree; an agent reports success or failure. */
  outcome: Extract<RunOutcome, "failed" | "timeout"> | "finished";
  exitCode: number | null;
  /** The agent's own short account of what it did (its final message), for the PR body. */
  summary: string;
  /** Why it failed, for the issue comment; includes the tail of its output. */
  error?: string;
  /**
   * True when the failure is not the task's fault (binary missing, model service refused,
   * crashed before editing anything), so the next agent in the fallback list may be tried.
   */
  infrastructureFailure?: boolean;
  /** Connections the sandbox's proxy refused during the run (0 when the sandbox is off). */
  denials?: number;
  turns: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  transcriptPath: string;
}

/** An adapter for one coding-agent CLI. Adding one is a new file and a line in registry.ts. */
export interface Agent {
  /** The name maintainers and operators use (`claude-code`, `codex`, `aider`, `gemini`, `command`). */
  readonly name: string;
  run(input: AgentRunInput): Promise<AgentRunResult>;
}
