import { lstat, mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { baseEnv, CommandError, type ExecResult, runCommand, tailLines } from "../util/exec.js";
import { redactSecrets } from "../util/logger.js";
import type { VerifyPlan } from "./verify-detect.js";
import { MAX_JUNIT_BYTES, parseJUnit } from "./verify-junit.js";
import { parseTestOutput, type TestReport } from "./verify-parse.js";

/** How verify's commands run; the signature of `runSandboxed` (src/sandbox/run.ts), so the sandbox plugs in as it is. */
export interface VerifyRunOptions {
  /** Working directory, and the only project directory the command may write. */
  worktree: string;
  /** A private HOME, writable; the JUnit report is written under it. */
  home: string;
  /** Hosts the command may reach (package registries for installs); empty: none. */
  allowedHosts: readonly string[];
  /** The whole environment (an allowlist). */
  env: Record<string, string | undefined>;
  timeoutMs?: number;
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

/** Runs one command; never throws for the command's own failure (see `runCommand`). */
export type VerifyRunner = (command: string, args: readonly string[], options: VerifyRunOptions) => Promise<ExecResult>;

/** Runs directly, without a sandbox: process group, timeout, output cap and env allowlist still apply. */
export const runUnsandboxed: VerifyRunner = (command, args, options) =>
  runCommand(command, args, {
    cwd: options.worktree,
    env: options.env,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(options.maxOutputBytes !== undefined && { maxOutputBytes: options.maxOutputBytes }),
    ...(options.signal && { signal: options.signal }),
  });

/** One run of a suite (setup, then the command) in one tree: what the evidence and the cache keep. */
export interface SuiteRun {
  /** Exit code of the step that ended the run (the command, or the setup step that failed); null when killed or never started. */
  exitCode: number | null;
  timedOut: boolean;
  /** Which step failed: a setup step, the command, or none (`null`: the command exited 0). */
  failedStep: "setup" | "command" | null;
  durationMs: number;
  /** Parsed results (a JUnit report when one was written, else the output), or null. */
  report: TestReport | null;
  /** Last lines of the failing or final step's output (stdout then stderr), secrets redacted. */
  tail: string;
}

/** Lines of output kept in a `SuiteRun`: enough to see a failure, small enough for a check run. */
export const TAIL_LINES = 60;

/** What `runSuite` needs. */
export interface SuiteOptions {
  plan: VerifyPlan & { command: string[] };
  /** The tree to test (the agent's worktree, or a base checkout). */
  dir: string;
  home: string;
  runner: VerifyRunner;
  /** Wall-clock budget (ms) for setup and command together. */
  timeoutMs: number;
  maxOutputBytes?: number;
  signal?: AbortSignal;
  /** Skip the setup steps (they already ran in this tree). */
  skipSetup?: boolean;
}

/**
 * The environment of a verify command: PATH, locale and temp dir, the private HOME, and settings
 * that make runners behave as in CI (no watch mode, no colour codes in the output we parse, no
 * bytecode or update-check files written into the tree).
 */
export function verifyEnv(home: string): Record<string, string> {
  return {
    ...baseEnv(),
    HOME: home,
    CI: "true",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    PYTHONDONTWRITEBYTECODE: "1",
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
  };
}

/** Runs the plan's setup steps, then its command, in `dir`; parses what the runner reported. */
export async function runSuite(options: SuiteOptions): Promise<SuiteRun> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const env = verifyEnv(options.home);
  const run = async (argv: string[]): Promise<ExecResult> => {
    const [file = "", ...args] = argv;
    try {
      return await options.runner(file, args, {
        worktree: options.dir,
        home: options.home,
        allowedHosts: options.plan.allowedHosts,
        env,
        timeoutMs: Math.max(1, deadline - Date.now()),
        ...(options.maxOutputBytes !== undefined && { maxOutputBytes: options.maxOutputBytes }),
        ...(options.signal && { signal: options.signal }),
      });
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      // Not installed or not executable: a result, not a crash; the tail says which program.
      return { exitCode: null, signal: null, stdout: "", stderr: error.message, timedOut: false, durationMs: 0 };
    }
  };
  const finish = (result: ExecResult, failedStep: SuiteRun["failedStep"], report: TestReport | null): SuiteRun => ({
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    failedStep,
    durationMs: Date.now() - started,
    report,
    tail: redactSecrets(tailLines(`${result.stdout.trimEnd()}\n${result.stderr}`.trim(), TAIL_LINES)),
  });

  for (const step of options.skipSetup ? [] : options.plan.setup) {
    const result = await run(step);
    if (result.exitCode !== 0) return finish(result, "setup", null);
  }
  const reportDir = path.join(options.home, "verify-reports");
  await rm(reportDir, { recursive: true, force: true });
  await mkdir(reportDir, { recursive: true });
  const junit = options.plan.junit;
  const reportFile = path.join(reportDir, "junit.xml");
  const extra = junit?.kind === "file" ? junit.args(reportFile) : [];
  // Reports of an earlier round must not pass for this one's.
  if (junit?.kind === "dir") await rm(path.join(options.dir, junit.dir), { recursive: true, force: true });
  const result = await run([...options.plan.command, ...extra]);
  const xml = junit?.kind === "file" ? await readCapped([reportFile]) : junit ? await readReports(path.join(options.dir, junit.dir)) : [];
  const report = parseJUnit(xml) ?? parseTestOutput(`${result.stdout}\n${result.stderr}`);
  return finish(result, result.exitCode === 0 && !result.timedOut ? null : "command", report);
}

/** The texts of the files that exist, stopping at `MAX_JUNIT_BYTES` in all. */
async function readCapped(files: readonly string[]): Promise<string[]> {
  const texts: string[] = [];
  let total = 0;
  for (const file of files) {
    // lstat: a symlink the tested code planted must not make us read a file outside the report.
    const size = await lstat(file)
      .then((s) => (s.isFile() ? s.size : -1))
      .catch(() => -1);
    if (size < 0 || total + size > MAX_JUNIT_BYTES) continue;
    total += size;
    texts.push(await readFile(file, "utf8"));
  }
  return texts;
}

/** Maven Surefire's `TEST-*.xml` files in `dir`. */
async function readReports(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return readCapped(names.filter((n) => /^TEST-.*\.xml$/.test(n)).map((n) => path.join(dir, n)));
}
