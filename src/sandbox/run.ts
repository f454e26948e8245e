import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BacklogBotError } from "../util/errors.js";
import { CommandError, type ExecResult, runCommand } from "../util/exec.js";
import { gitDirsOf, isExecutable, readablePaths, shellQuote } from "./paths.js";
import { buildSandboxConfig } from "./policy.js";
import { SETUP_FAILED_EXIT } from "./runner-exit.js";
import type { RunnerSpec } from "./runner-main.js";
import { requireSandbox, sandboxHidden, sandboxMode } from "./status.js";

/** How one command runs in the sandbox. */
export interface SandboxRunOptions {
  /** The task's worktree: the working directory, and the only project directory writable. */
  worktree: string;
  /** The run's private HOME (created by the caller, removed by the caller): writable. */
  home: string;
  /** Hosts reachable through the proxy (`host`, `host:port`, `*.domain`); empty: no network. */
  allowedHosts: readonly string[];
  /** Extra read-only paths: the mirror the worktree's git needs, a toolchain outside `/usr`. */
  readOnly?: readonly string[];
  /** The command's whole environment (an allowlist: nothing of the server's is inherited). */
  env: Record<string, string | undefined>;
  timeoutMs?: number;
  input?: string;
  maxOutputBytes?: number;
  signal?: AbortSignal;
  onStdoutLine?: (line: string) => void;
}

/** A sandboxed command's end, plus the connections the proxy refused. */
export type SandboxResult = ExecResult & {
  /** Connections the proxy refused (0 when the sandbox is off). */
  denials: number;
  /** The proxy's last few denial lines, e.g. `deny network-outbound example.com:443 (host is not on the allow list)`. */
  denialLines: string[];
  /** False when the operator turned the sandbox off (`BACKLOG_BOT_SANDBOX=off`). */
  sandboxed: boolean;
};

/** The runner script: compiled JavaScript in dist/, TypeScript under the test runner (run through tsx). */
function runnerCommand(): string[] {
  const js = fileURLToPath(new URL("./runner-main.js", import.meta.url));
  if (existsSync(js)) return [js];
  const ts = fileURLToPath(new URL("./runner-main.ts", import.meta.url));
  // tsx by absolute URL: `--import` resolves a bare name from the child's cwd (the worktree).
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return ["--import", tsx, ts];
}

function execOptions(options: Partial<SandboxRunOptions>) {
  return {
    timeoutMs: options.timeoutMs,
    maxOutputBytes: options.maxOutputBytes,
    signal: options.signal,
    onStdoutLine: options.onStdoutLine,
    ...(options.input !== undefined && { input: options.input }),
  };
}

/**
 * Runs `command` with `args` inside the sandbox (see docs/security.md): bubblewrap through
 * `@anthropic-ai/sandbox-runtime`, one runner process per run, whose process group the caller's
 * timeout, abort and end kill. Inside, the command sees the worktree and HOME read-write, the
 * toolchains read-only, a private `/tmp`, its own PID namespace and no network but the proxy.
 * With the sandbox off it runs the command directly (same environment, TMPDIR in HOME).
 * Never throws for the command's own failure.
 * @throws BacklogBotError `SANDBOX_UNAVAILABLE` when the sandbox is on but cannot run on this host.
 * @throws CommandError when the program cannot be started.
 */
export async function runSandboxed(command: string, args: readonly string[], options: SandboxRunOptions): Promise<SandboxResult> {
  const exec = execOptions(options);
  if (sandboxMode() === "off") {
    const tmp = path.join(options.home, "tmp");
    await mkdir(tmp, { recursive: true });
    const result = await runCommand(command, args, { ...exec, cwd: options.worktree, env: { ...options.env, TMPDIR: tmp } });
    return { ...result, denials: 0, denialLines: [], sandboxed: false };
  }
  await requireSandbox();
  // Inside, a missing program is only `env`'s exit 127; say it the way runCommand does for a direct start.
  if (!isExecutable(command, options)) {
    const result = { exitCode: null, signal: null, stdout: "", stderr: "", timedOut: false, durationMs: 0 };
    throw new CommandError(command, result, `could not start ${command}: no such executable file`);
  }
  return runInSandbox(command, args, options, exec);
}

/** `runSandboxed` without the once-per-process check (the probe itself runs through this). */
export async function runInSandbox(
  command: string,
  args: readonly string[],
  options: SandboxRunOptions,
  exec: Omit<SandboxRunOptions, "worktree" | "home" | "allowedHosts" | "readOnly" | "env"> = {},
): Promise<SandboxResult> {
  // Sockets of the run's proxy: a short path (a socket path is capped at 108 bytes), removed after;
  // named after this server's pid so that a later server can remove what a killed one left.
  const socketDir = await mkdtemp(path.join(os.tmpdir(), `bbsbx-${process.pid}-`));
  try {
    const readOnly = readablePaths(command, options, await gitDirsOf(options.worktree));
    const config = buildSandboxConfig({
      worktree: options.worktree,
      home: options.home,
      readOnly,
      allowedHosts: options.allowedHosts,
      hidden: sandboxHidden(),
      socketDir,
    });
    // Loopback hosts on the allowlist are reached through the proxy too: the library's NO_PROXY
    // would send them straight to the sandbox's own, empty, loopback.
    const inner = ["exec", "env", "-u", "NO_PROXY", "-u", "no_proxy", "TMPDIR=/tmp", command, ...args];
    const spec: RunnerSpec = {
      config,
      command: inner.map((word, i) => (i < 2 ? word : shellQuote(word))).join(" "),
      cwd: options.worktree,
      resultFile: path.join(socketDir, "result.json"),
    };
    const result = await runCommand(process.execPath, [...runnerCommand(), JSON.stringify(spec)], {
      ...execOptions({ ...options, ...exec }),
      cwd: options.worktree,
      env: { ...options.env, TMPDIR: socketDir },
    });
    // A run killed while its sandbox was still being set up (timeout, cancel) ended as the caller asked: not a host problem.
    const killed = result.timedOut || options.signal?.aborted === true || exec.signal?.aborted === true;
    if (!killed && result.exitCode === SETUP_FAILED_EXIT && /^backlog-bot sandbox: /m.test(result.stderr)) {
      throw new BacklogBotError("SANDBOX_UNAVAILABLE", `the sandbox could not start: ${result.stderr.trim().slice(-500)}`);
    }
    const report = await readFile(spec.resultFile, "utf8")
      .then((text) => JSON.parse(text) as { denials: number; lines: string[] })
      .catch(() => ({ denials: 0, lines: [] as string[] }));
    return { ...result, denials: report.denials, denialLines: report.lines, sandboxed: true };
  } finally {
    await rm(socketDir, { recursive: true, force: true });
  }
}
