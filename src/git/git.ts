import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { baseEnv, CommandError, type ExecResult, runCommand, tailLines } from "../util/exec.js";

/** Longest any one git command may run (ms): a clone of a large repository on a slow link. */
const GIT_TIMEOUT_MS = 10 * 60_000;

/** An empty HOME for git so no user's global config, credentials or hooks apply. */
const gitHome = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-git-home-"));

/**
 * Reads the token from git's own environment when git asks for credentials. The helper's text
 * holds no secret (only the variable's name), so it may appear in an argument list; the empty
 * `credential.helper=` first drops any helper a repository config may have configured.
 */
const CREDENTIAL_ARGS = [
  "-c",
  "credential.helper=",
  "-c",
  'credential.helper=!f() { test "$1" = get || exit 0; echo username=x-access-token; echo "password=$BACKLOG_BOT_GIT_TOKEN"; }; f',
];

/**
 * Settings on every bot git command: no hooks (a worktree's agent could have planted some), no
 * fsmonitor, no prompts.
 */
const SAFE_ARGS = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "protocol.ext.allow=never"];

/** Options of one git command. */
export interface GitOptions {
  cwd: string;
  /** Installation token for fetch/push over https; only this child's environment ever holds it. */
  token?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/**
 * Runs git (never through a shell) with a private HOME, no system config, no hooks and no prompts.
 * @throws CommandError carrying git's exit code and the tail of its stderr when git fails.
 */
export async function git(args: readonly string[], options: GitOptions): Promise<ExecResult> {
  const env: Record<string, string> = {
    ...baseEnv(),
    ...options.env,
    HOME: gitHome,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
  };
  const fullArgs = [...SAFE_ARGS, ...(options.token ? CREDENTIAL_ARGS : []), ...args];
  if (options.token) env.BACKLOG_BOT_GIT_TOKEN = options.token;
  const result = await runCommand("git", fullArgs, { cwd: options.cwd, env, timeoutMs: options.timeoutMs ?? GIT_TIMEOUT_MS });
  if (result.exitCode !== 0) {
    throw new CommandError(
      "git",
      result,
      `git ${args[0]} failed (exit ${result.exitCode ?? result.signal}): ${tailLines(result.stderr, 5)}`,
    );
  }
  return result;
}
