import type { Writable } from "node:stream";
import { execa } from "execa";
import { BacklogBotError } from "./errors.js";
import { registerChild, signalGroup, unregisterChild } from "./process-registry.js";

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
  /**
   * Written to a pipe the child inherits as file descriptor 3, which is then closed: how a secret
   * reaches one child (git's credential helper reads it once) without an environment variable or an
   * argument that `/proc` would show.
   */
  fd3Input?: string;
}

/** What a child ended with. `stdout`/`stderr` are the capped tails. */
export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Whether stdout was longer than `maxOutputBytes`, so `stdout` holds only its last whole lines: never a complete listing. */
  stdoutCut?: boolean;
  timedOut: boolean;
  durationMs: number;
}

/** How a child ended, for an error message: `exit 128`, `killed by SIGSEGV` or `timed out after 30 s`. */
export function endedHow(result: Pick<ExecResult, "exitCode" | "signal" | "timedOut" | "durationMs">): string {
  if (result.timedOut) return `timed out after ${Math.round(result.durationMs / 1000)} s`;
  if (result.signal) return `killed by ${result.signal}`;
  return `exit ${result.exitCode}`;
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

/**
 * Keeps the last `max` bytes of a stream, cut at a line start: a tail that began inside a line
 * could begin inside a token, whose rest no redaction recognises (`redactSecrets` matches token
 * shapes by their prefix and registered secrets whole), and would then reach a transcript, a log or
 * a comment. When the kept bytes hold no line start at all (one line longer than `max`), nothing
 * of that line is kept.
 */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes pushed in all. */
  private total = 0;
  /** Whether more than `max` bytes arrived. */
  get cut(): boolean {
    return this.total > this.max;
  }
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.total += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.max && this.chunks.length > 1) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }
  toString(): string {
    const all = Buffer.concat(this.chunks);
    if (!this.cut) return all.toString("utf8");
    const start = Math.max(0, all.length - this.max);
    // The byte before the cut is a newline when the cut falls on a line start.
    const line = all[start - 1] === 0x0a ? start : all.indexOf(0x0a, start) + 1;
    return line === 0 ? "" : all.subarray(line).toString("utf8");
  }
}

/**
 * Runs `file` with `args` (never through a shell) in a process group of its own, recorded in the
 * process registry while it lives. The whole group is killed (SIGKILL) the moment the leader
 * exits, so a background process it left (a dev server, a `sleep &` holding stdout) neither
 * outlives it nor keeps this call waiting for stdio to close; a timeout or abort sends SIGTERM to
 * the group, then SIGKILL after a grace period. Never throws for a non-zero exit: look at
 * `exitCode`/`timedOut`.
 * @throws CommandError when the program cannot be started (not found, not executable), or when
 *   `onStdoutLine` throws: the child's group is then killed, and the error is the cause.
 */
export async function runCommand(file: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const started = Date.now();
  const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const stdout = new Tail(max);
  const stderr = new Tail(max);
  const stdin = options.input === undefined ? "ignore" : "pipe";
  const child = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    buffer: false,
    reject: false,
    stdio: options.fd3Input === undefined ? [stdin, "pipe", "pipe"] : [stdin, "pipe", "pipe", "pipe"],
    stripFinalNewline: false,
  });
  const pid = child.pid;
  if (pid !== undefined) registerChild(pid, file);
  let timedOut = false;
  let exited = false;
  const killGroup = (): void => {
    if (pid === undefined || exited) return;
    if (!signalGroup(pid, "SIGTERM")) return;
    setTimeout(() => signalGroup(pid, "SIGKILL"), KILL_GRACE_MS).unref();
  };
  // The leader is gone: nothing of its group may stay behind, and its stdio must close.
  child.once("exit", () => {
    exited = true;
    if (pid !== undefined) signalGroup(pid, "SIGKILL");
  });
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          killGroup();
        }, options.timeoutMs);
  const onAbort = (): void => killGroup();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) killGroup();

  let pending = "";
  // A line handler that throws would throw out of the stream's event, past every caller: an
  // uncaught exception that ends the process. Its first error instead ends the child and this call.
  let lineError: unknown;
  const onLine = (line: string): void => {
    if (lineError !== undefined || !options.onStdoutLine) return;
    try {
      options.onStdoutLine(line);
    } catch (error) {
      lineError = error ?? new Error("the line handler threw no error object");
      killGroup();
    }
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout.push(chunk);
    if (!options.onStdoutLine) return;
    pending += chunk.toString("utf8");
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      onLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
  if (options.input !== undefined) {
    child.stdin?.on("error", () => {}); // a child that exits without reading stdin is not our failure
    child.stdin?.end(options.input);
  }
  if (options.fd3Input !== undefined) {
    const fd3 = child.stdio[3] as Writable | undefined;
    fd3?.on("error", () => {}); // nobody asked for the secret: the child simply did not need it
    fd3?.end(options.fd3Input);
  }
  const outcome = await child;
  if (timer) clearTimeout(timer);
  options.signal?.removeEventListener("abort", onAbort);
  if (pid !== undefined) {
    signalGroup(pid, "SIGKILL");
    unregisterChild(pid);
  }
  if (pending) onLine(pending);

  const result: ExecResult = {
    exitCode: outcome.exitCode ?? null,
    signal: outcome.signal ?? null,
    stdout: stdout.toString(),
    stderr: stderr.toString(),
    ...(stdout.cut && { stdoutCut: true }),
    timedOut,
    durationMs: Date.now() - started,
  };
  if (lineError !== undefined) {
    const reason = lineError instanceof Error ? lineError.message : String(lineError);
    throw new CommandError(file, result, `reading ${file}'s output failed, so it was stopped: ${reason}`, { cause: lineError });
  }
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
