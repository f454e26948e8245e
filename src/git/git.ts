import { baseEnv, CommandError, DEFAULT_MAX_OUTPUT_BYTES, type ExecResult, runCommand, tailLines } from "../util/exec.js";
import { credentialAnswer, credentialArgs } from "./credentials.js";

/** Longest any one git command may run (ms): a clone of a large repository on a slow link. */
const GIT_TIMEOUT_MS = 10 * 60_000;

/**
 * Settings on every bot git command: no hooks (a worktree's agent could have planted some), no
 * fsmonitor, no prompts, no `ext::` transport. `safe.directory=*` because the bot owns every
 * repository it touches, while the sandbox may have created files under another uid mapping.
 *
 * None of them stops a nested repository's own config: when git looks inside a submodule of a
 * worktree (is it dirty?), it runs `git status` there, with that repository's `.git/config`, whose
 * filter drivers, fsmonitor or textconv an agent wrote inside the sandbox, and that child runs on
 * the host. So no bot command may look inside one: submodules are ignored by default here
 * (`diff.ignoreSubmodules`, no summaries, no recursion, no submodule diffs), commands that would
 * still look pass `--ignore-submodules=all` (a `.gitmodules` `ignore` setting overrides the config,
 * not the option), and `git add`, which has no such option, goes through `addAllFiles` (stage.ts).
 * See https://git-scm.com/docs/git-config#Documentation/git-config.txt-diffignoreSubmodules.
 */
const SAFE_ARGS = [
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "protocol.ext.allow=never",
  "-c",
  "safe.directory=*",
  "-c",
  "diff.ignoreSubmodules=all",
  "-c",
  "diff.submodule=short",
  "-c",
  "status.submoduleSummary=false",
  "-c",
  "submodule.recurse=false",
  "-c",
  "fetch.recurseSubmodules=false",
  "-c",
  "push.recurseSubmodules=no",
];

/** Options of one git command. */
export interface GitOptions {
  cwd: string;
  /**
   * Credentials for fetch/push over https: a token, or a function that mints one right before the
   * command runs (an installation token lasts an hour; a long agent run must not outlive it).
   * Given to git's one-shot helper over an inherited pipe, for `remoteUrl`'s host only.
   */
  token?: string | (() => Promise<string>);
  /** The https URL the token is for (the clone URL); default: the first http(s) URL among the arguments. */
  remoteUrl?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  /**
   * Sees each line of stdout as it arrives, uncapped (the returned `stdout` keeps only the last
   * MiB): for listings as long as the repository, where a cut would drop entries. Must not throw.
   */
  onStdoutLine?: (line: string) => void;
}

/**
 * Runs git (never through a shell) with no HOME, no global or system config, no hooks and no
 * prompts, in its own process group.
 * @throws CommandError carrying git's exit code and the tail of its stderr when git fails, or
 *   when git printed more than `DEFAULT_MAX_OUTPUT_BYTES` (1 MiB) to stdout and `onStdoutLine` was
 *   not given to read it whole.
 * @throws TypeError when a token is given without an absolute `remoteUrl`.
 */
export async function git(args: readonly string[], options: GitOptions): Promise<ExecResult> {
  const env: Record<string, string> = {
    ...baseEnv(),
    ...options.env,
    // No HOME and no global config: no user's credentials, hooks or `url.*.insteadOf` apply, and
    // no temporary directory has to be made (and left behind) to stand in for one.
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
  };
  let credential: { args: string[]; answer: string } | undefined;
  if (options.token !== undefined) {
    const url = options.remoteUrl ?? args.find((arg) => /^https?:\/\//.test(arg));
    if (!url) throw new TypeError("git: a token needs the remote URL it is for");
    const token = typeof options.token === "function" ? await options.token() : options.token;
    const scoped = { token, url };
    credential = { args: credentialArgs(scoped), answer: credentialAnswer(scoped) };
  }
  const fullArgs = [...SAFE_ARGS, ...(credential?.args ?? []), ...args];
  const result = await runCommand("git", fullArgs, {
    cwd: options.cwd,
    env,
    timeoutMs: options.timeoutMs ?? GIT_TIMEOUT_MS,
    ...(credential && { fd3Input: credential.answer }),
    ...(options.onStdoutLine && { onStdoutLine: options.onStdoutLine }),
  });
  if (result.exitCode !== 0) {
    throw new CommandError(
      "git",
      result,
      `git ${args[0]} failed (exit ${result.exitCode ?? result.signal}): ${tailLines(result.stderr, 5)}`,
    );
  }
  // A cut listing is a wrong listing: the diff policy read `git status` this way, and an agent that
  // made a MiB of file names pushed `.github/backlog-bot.yml` past it, its entry cut from the head.
  if (result.stdoutCut && !options.onStdoutLine) {
    throw new CommandError("git", result, `git ${args[0]} printed more than ${DEFAULT_MAX_OUTPUT_BYTES} bytes, so its output was not used`);
  }
  return result;
}
