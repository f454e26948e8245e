/**
 * The host side of one sandboxed run, as a process of its own: `node runner-main.js <spec-json>`.
 *
 * Why a process per run rather than the library inside the server: `@anthropic-ai/sandbox-runtime`
 * keeps one global configuration per process, and its filtering proxy consults that configuration
 * for every connection; two runs with different allowlists (two agents, a verify setup) cannot share
 * it. One runner per run gets its own proxy with its own allowlist, its own violation count, and
 * goes away with the run: it is the leader of the run's process group, so the executor's kill of
 * that group takes the proxy, bubblewrap and (through bubblewrap's PID namespace and
 * `--die-with-parent`) everything started inside.
 *
 * Protocol: stdin/stdout/stderr are the command's. Exit code is the command's (128 + signal number
 * when it was killed), or 125 with a `backlog-bot sandbox:` line on stderr when the sandbox could
 * not be set up. The violation count is written as JSON to `spec.resultFile`.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { constants } from "node:os";
import { SandboxManager, type SandboxRuntimeConfig } from "@anthropic-ai/sandbox-runtime";
import { SETUP_FAILED_EXIT } from "./runner-exit.js";

/** What the parent passes (as argv[2]). */
export interface RunnerSpec {
  config: SandboxRuntimeConfig;
  /** The command line to run inside, already quoted for `sh -c` (see run.ts). */
  command: string;
  cwd: string;
  resultFile: string;
}

/** How often (ms) the runner checks that the server that started it is still alive. */
const PARENT_POLL_MS = 1000;

function fail(message: string): never {
  process.stderr.write(`backlog-bot sandbox: ${message}\n`);
  process.exit(SETUP_FAILED_EXIT);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as RunnerSpec;
  // The library scans the current directory for files it always protects (.bashrc, .git/hooks, ...).
  process.chdir(spec.cwd);
  const deps = SandboxManager.checkDependencies();
  if (deps.errors.length > 0) fail(deps.errors.join("; "));
  await SandboxManager.initialize(spec.config);
  const wrapped = await SandboxManager.wrapWithSandbox(spec.command, "bash", undefined, undefined, { commandId: "run" });
  const child = spawn(wrapped, { shell: true, stdio: "inherit", cwd: spec.cwd });
  const parent = process.ppid;
  const stop = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // The server died without killing us (kill -9): take the run down rather than outlive it.
  // The runner leads the run's process group (the server starts it detached): kill the group, itself included.
  setInterval(() => {
    if (process.ppid !== parent) {
      try {
        process.kill(-process.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
        process.exit(SETUP_FAILED_EXIT);
      }
    }
  }, PARENT_POLL_MS).unref();
  child.on("error", (error) => fail(`could not start bubblewrap: ${error.message}`));
  child.on("exit", (code, signal) => {
    const violations = SandboxManager.getSandboxViolationStore().getViolationsForCommand("run");
    try {
      writeFileSync(spec.resultFile, JSON.stringify({ denials: violations.length, lines: violations.slice(-20).map((v) => v.line) }));
    } catch {
      // The parent then reports no count; the run's own result still stands.
    }
    SandboxManager.cleanupAfterCommand();
    const number = signal ? (constants.signals[signal] ?? 9) : 0;
    process.exit(signal ? 128 + number : (code ?? 1));
  });
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
