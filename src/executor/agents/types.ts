import type { RunOutcome } from "../../store/schema.js";

/**
 * One agent run's inputs. The agent runs inside `worktree` (its working directory) and must not
 * touch anything outside it; `home` is the private HOME of this task attempt (kept across its
 * rounds, so the agent can resume its own session; removed when the task's run ends).
 */
export interface AgentRunInput {
  /** The full prompt, or with `resume` only the next turn (already sanitised and fenced; see prompt/build.ts). */
  prompt: string;
  /**
   * Continue this session of the same agent (a `sessionId` an earlier run in the same `home` and
   * `worktree` reported) with `prompt` as its next turn: `claude -p --resume <id>`,
   * `codex exec resume <id>`. Given only to adapters whose `resumable` is true.
   */
  resume?: string;
  /** Absolute path of the git worktree to edit. */
  worktree: string;
  /** Absolute path of the attempt's private HOME: empty for its first run, kept across its rounds. */
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
  /** The agent's session (Claude Code's `session_id`, Codex's `thread_id`), for resuming it; null or absent when the CLI reports none. */
  sessionId?: string | null;
  /**
   * `resume` was asked but the CLI never opened that session (gone, or never saved): it did no
   * work, and the caller runs it again with a fresh prompt.
   */
  resumeFailed?: boolean;
}

/** An adapter for one coding-agent CLI. Adding one is a new file and a line in registry.ts. */
export interface Agent {
  /** The name maintainers and operators use (`claude-code`, `codex`, `aider`, `gemini`, `command`). */
  readonly name: string;
  /** True when `run` honours `resume` (Claude Code, Codex); the others always get a fresh prompt. */
  readonly resumable?: boolean;
  run(input: AgentRunInput): Promise<AgentRunResult>;
}
