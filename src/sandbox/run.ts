import { accessSync, constants, existsSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BacklogBotError } from "../util/errors.js";
import { CommandError, type ExecResult, runCommand } from "../util/exec.js";
import { buildSandboxConfig, installDirOf } from "./policy.js";
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
 * The git directories a worktree's own git needs, read-only: the worktree's admin directory
 * (`gitdir:` in its `.git` file) and the repository it belongs to (the mirror). Read before the run,
 * from a file the sandbox does not let the command rewrite.
 */
export async function gitDirsOf(worktree: string): Promise<string[]> {
  const text = await readFile(path.join(worktree, ".git"), "utf8").catch(() => "");
  const match = /^gitdir: (.+)$/m.exec(text);
  if (!match?.[1]) return [];
  const admin = path.resolve(worktree, match[1].trim());
  const common = await readFile(path.join(admin, "commondir"), "utf8").then(
    (dir) => path.resolve(admin, dir.trim()),
    () => undefined,
  );
  return common ? [admin, common] : [admin];
}

/** Whether `command` names an executable file: a path (relative to the worktree), or a name on the env's PATH. */
function isExecutable(command: string, options: SandboxRunOptions): boolean {
  const candidates = command.includes("/")
    ? [path.resolve(options.worktree, command)]
    : (options.env.PATH ?? "")
        .split(":")
        .filter(Boolean)
        .map((dir) => path.join(dir, command));
  return candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/** True when `dir` is `inner` or one of its ancestors. */
function contains(dir: string, inner: string): boolean {
  return inner === dir || inner.startsWith(dir.endsWith(path.sep) ? dir : `${dir}${path.sep}`);
}

/**
 * The read-only paths of a run: the caller's, the worktree's git directories, the command's install
 * and Node's. A directory holding the worktree or HOME is left out (bubblewrap would mount it
 * read-only over them); for the command, its own file is allowed instead.
 */
function readablePaths(command: string, options: SandboxRunOptions, gitDirs: string[]): string[] {
  const out: string[] = [];
  const add = (p: string | undefined, file?: string): void => {
    if (!p) return;
    if (contains(p, options.worktree) || contains(p, options.home)) {
      if (file) out.push(file);
      return;
    }
    out.push(p);
  };
  for (const p of options.readOnly ?? []) add(p);
  for (const p of gitDirs) add(p);
  add(installDirOf(command), command.includes("/") ? path.resolve(options.worktree, command) : undefined);
  add(installDirOf(process.execPath), process.execPath);
  return out;
}

/** Quotes one word for `sh -c` (POSIX single quotes). */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
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
  // Sockets of the run's proxy: a short path (a socket path is capped at 108 bytes), removed after.
  const socketDir = await mkdtemp(path.join(os.tmpdir(), "bbsbx-"));
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
