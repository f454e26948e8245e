import { execa } from "execa";
import { BacklogBotError } from "./errors.js";

/** Default cap on the output kept from one child (bytes): the tail is what explains a failure. */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
/** After SIGTERM, wait this long (ms) before SIGKILL to the whole process group. */
const KILL_GRACE_MS = 3_000;

/** How to run one child process. */
export interface ExecOptions {
  cwd: string;
  /**
   * The child's entire environment: nothing is inherited from this process, so a secret in the
   * bot's environment cannot leak by accident. Build it with `baseEnv()` plus what the child needs.
   */
  env: Record<string, string | undefined>;
  /** Wall-clock limit (ms); on expiry the child's whole process group is killed. */
  timeoutMs?: number;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Keep at most this many bytes of each of stdout and stderr (the tail). */
  maxOutputBytes?: number;
  /** Called with each complete stdout line as it arrives (for streamed JSON events). */
  onStdoutLine?: (line: string) => void;
  /** Aborting kills the process group, as a timeout does. */
  signal?: AbortSignal;
}

/** What a child ended with. `stdout`/`stderr` are the capped tails. */
export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

/** A child that could not start, or ended badly where the caller asked for success. */
export class CommandError extends BacklogBotError {
  constructor(
    readonly command: string,
    readonly result: ExecResult | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(result?.timedOut ? "COMMAND_TIMEOUT" : "COMMAND_FAILED", message, options);
  }
}

/**
 * The variables every child may see: PATH, locale and temp dir. HOME is deliberately absent:
 * callers give each child a HOME of its own.
 */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Keeps the last `max` bytes of a stream. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.max && this.chunks.length > 1) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }
  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString("utf8");
  }
}

/**
 * Runs `file` with `args` (never through a shell), in its own process group so that a timeout or
 * abort kills its children too. Never throws for a non-zero exit: look at `exitCode`/`timedOut`.
 * @throws CommandError when the program cannot be started (not found, not executable).
 */
export async function runCommand(file: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const started = Date.now();
  const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const stdout = new Tail(max);
  const stderr = new Tail(max);
  const child = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    buffer: false,
    reject: false,
    stdin: options.input === undefined ? "ignore" : "pipe",
    stripFinalNewline: false,
  });
  let timedOut = false;
  const killGroup = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      return; // already gone
    }
    setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, KILL_GRACE_MS).unref();
  };
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          killGroup();
        }, options.timeoutMs);
  const onAbort = (): void => killGroup();
  options.signal?.addEventListener("abort", onAbort, { once: true });

  let pending = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout.push(chunk);
    if (!options.onStdoutLine) return;
    pending += chunk.toString("utf8");
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      options.onStdoutLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
  if (options.input !== undefined) {
    child.stdin?.on("error", () => {}); // a child that exits without reading stdin is not our failure
    child.stdin?.end(options.input);
  }
  const outcome = await child;
  if (timer) clearTimeout(timer);
  options.signal?.removeEventListener("abort", onAbort);
  if (pending && options.onStdoutLine) options.onStdoutLine(pending);

  const result: ExecResult = {
    exitCode: outcome.exitCode ?? null,
    signal: outcome.signal ?? null,
    stdout: stdout.toString(),
    stderr: stderr.toString(),
    timedOut,
    durationMs: Date.now() - started,
  };
  // No exit code, no signal, no timeout: the program never ran (ENOENT, EACCES, ...).
  if (outcome.failed && outcome.exitCode === undefined && !timedOut && !outcome.signal && !options.signal?.aborted) {
    throw new CommandError(file, result, `could not start ${file}: ${outcome.shortMessage ?? "unknown error"}`, { cause: outcome });
  }
  return result;
}

/** The last `lines` lines of some output, for error messages and comments. */
export function tailLines(text: string, lines = 20): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
