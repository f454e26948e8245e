import { accessSync, constants, statSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { installDirOf } from "./policy.js";
import type { SandboxRunOptions } from "./run.js";

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

/**
 * Removes the runs' socket directories that servers no longer alive left in the temp dir (killed
 * mid-run: nothing else would). Called once, with the start-up probe.
 */
export async function removeStaleSocketDirs(): Promise<number> {
  let removed = 0;
  for (const name of await readdir(os.tmpdir()).catch(() => [] as string[])) {
    const pid = Number(/^bbsbx-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    await rm(path.join(os.tmpdir(), name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether `command` names an executable file: a path (relative to the worktree), or a name on the env's PATH. */
export function isExecutable(command: string, options: SandboxRunOptions): boolean {
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
export function readablePaths(command: string, options: SandboxRunOptions, gitDirs: string[]): string[] {
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
