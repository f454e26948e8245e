import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AgentRunInput } from "../../../src/executor/agents/types.js";
import { baseEnv, runCommand } from "../../../src/util/exec.js";

/** Secrets set in the test process, as the bot's own would be; none may reach an agent. */
export const CANARIES = {
  GITHUB_TOKEN: "ghs_canaryGithubToken0123456789abcdefABCDEF",
  GH_TOKEN: "ghp_canaryGhToken0123456789abcdefABCDEFabcd",
  WEBHOOK_SECRET: "canary-webhook-secret-5f1d2c",
  PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\ncanaryPrivateKeyBody\n-----END RSA PRIVATE KEY-----",
} as const;

/** Sets the canaries in process.env; returns a function that restores it. */
export function plantCanaries(): () => void {
  const before = Object.fromEntries(Object.keys(CANARIES).map((k) => [k, process.env[k]]));
  Object.assign(process.env, CANARIES);
  return () => {
    for (const [key, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

/** Distinctive parts of each canary (a whole PEM may be re-wrapped, its body may not). */
export const CANARY_MARKERS = ["canaryGithubToken", "canaryGhToken", "canary-webhook-secret", "canaryPrivateKeyBody"];

/** The canary markers found in `text`. */
export function leakedCanaries(text: string): string[] {
  return CANARY_MARKERS.filter((marker) => text.includes(marker));
}

/** A scratch area with a committed git worktree holding `hello.txt`, and a run input for it. */
export async function makeRun(
  options: { prompt?: string; timeoutMs?: number } = {},
): Promise<{ root: string; input: AgentRunInput; file: string; cleanup(): Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), "backlog-bot-agent-"));
  const worktree = path.join(root, "worktree");
  const home = path.join(root, "home");
  await mkdir(worktree);
  await mkdir(home, { mode: 0o700 });
  const file = path.join(worktree, "hello.txt");
  await writeFile(file, "hello world\n");
  const env = {
    ...baseEnv(),
    HOME: home,
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@e",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@e",
  };
  for (const args of [
    ["init", "-q"],
    ["add", "."],
    ["commit", "-qm", "init"],
  ])
    await runCommand("git", args, { cwd: worktree, env });
  const input: AgentRunInput = {
    prompt: options.prompt ?? "Change hello.txt so that it greets the agent.",
    worktree,
    home,
    transcriptPath: path.join(root, "transcript.log"),
    timeoutMs: options.timeoutMs ?? 90_000,
    maxOutputBytes: 1024 * 1024,
  };
  return { root, input, file, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Reads a UTF-8 file. */
export const readText = (file: string): Promise<string> => readFile(file, "utf8");

/** True while a process with this pid exists. */
/**
 * Whether a process whose command line has `marker` as an argument runs anywhere on this host (a
 * sandboxed process has a pid of its own PID namespace, so its pid says nothing here).
 */
export function runningWithArg(marker: string): boolean {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").includes(marker)) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
