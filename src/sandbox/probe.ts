import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SandboxManager } from "@anthropic-ai/sandbox-runtime";
import { baseEnv } from "../util/exec.js";
import { removeStaleSocketDirs } from "./paths.js";
import { runInSandbox } from "./run.js";

/**
 * The start-up check: the library's dependency check (bubblewrap, socat, and for root the
 * CAP_SETFCAP bubblewrap needs), then `true` run inside a sandbox with the proxy on.
 * @returns null when the sandbox works, else what is wrong.
 */
export async function probeSandbox(): Promise<string | null> {
  if (process.platform !== "linux") return `sandboxing is implemented for Linux only (this is ${process.platform})`;
  const deps = SandboxManager.checkDependencies();
  if (deps.errors.length > 0) return deps.errors.join("; ");
  await removeStaleSocketDirs();
  const dir = await mkdtemp(path.join(os.tmpdir(), "bbprobe-"));
  try {
    const result = await runInSandbox("true", [], { worktree: dir, home: dir, allowedHosts: [], env: baseEnv() }, { timeoutMs: 30_000 });
    if (result.exitCode === 0) return null;
    return `a probe run of \`true\` ended with ${result.exitCode ?? result.signal}: ${result.stderr.trim().slice(-300)}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
