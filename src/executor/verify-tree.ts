import { copyFile, mkdir, mkdtemp, readFile, rm, stat, utimes } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { git } from "../git/git.js";
import { addAllFiles } from "../git/stage.js";
import type { RepoFiles } from "./verify-detect.js";

/**
 * The git work verify needs, none of which touches the worktree's own index, branch or refs: a
 * snapshot of the agent's work as a tree object (untracked files included, ignored ones not), a
 * restore of that snapshot after the tests ran (tests write caches and reports), a checkout of
 * the base commit into a scratch directory, and the diff between them.
 */

/** Largest diff (bytes) read for the masking guard; a bigger change is flagged as unreadable by the caller. */
export const MAX_DIFF_BYTES = 8 * 1024 * 1024;

/** Runs `fn` with a private index file (a copy of `seedFrom`'s, or empty), removed afterwards. */
async function withTempIndex<T>(worktree: string, seed: boolean, fn: (env: Record<string, string>, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "backlog-bot-index-"));
  const file = path.join(dir, "index");
  try {
    if (seed) {
      // The real index carries stat data, so `git add -A` re-hashes only files that changed.
      const { stdout } = await git(["rev-parse", "--path-format=absolute", "--git-path", "index"], { cwd: worktree });
      const index = stdout.trim();
      // The copy keeps the index's times: git treats an entry whose file is not older than the index
      // file as "racily clean" and compares its content; a copy stamped now made a same-size edit in
      // the index's second (Debian's git compares whole seconds) look unchanged, and the snapshot
      // missed it. https://git-scm.com/docs/racy-git
      await copyFile(index, file)
        .then(async () => {
          const { atime, mtime } = await stat(index);
          await utimes(file, atime, mtime);
        })
        .catch(() => {}); // no index yet: start empty
    }
    return await fn({ GIT_INDEX_FILE: file }, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The worktree's current content as a tree object id (tracked and untracked files, not ignored
 * ones), made as the bot's commit is: submodules keep the commit the worktree's index records (the
 * base's) and nested repositories are left out, since git must never look inside them (src/git/stage.ts).
 */
export async function snapshotTree(worktree: string): Promise<string> {
  return withTempIndex(worktree, true, async (env, dir) => {
    await addAllFiles([], { cwd: worktree, env }, path.join(dir, "pathspecs"));
    const { stdout } = await git(["write-tree"], { cwd: worktree, env });
    return stdout.trim();
  });
}

/**
 * Puts the worktree back to `tree` (from `snapshotTree`): files the tests added are deleted, files
 * they changed or deleted are written back. Ignored files (node_modules, caches) stay.
 */
export async function restoreTree(worktree: string, tree: string): Promise<void> {
  const current = await snapshotTree(worktree);
  if (current === tree) return;
  const { stdout } = await git(["diff-tree", "-r", "-z", "--no-renames", "--name-status", tree, current], { cwd: worktree });
  const fields = stdout.split("\0").filter(Boolean);
  const restore: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [status, file] = [fields[i] ?? "", fields[i + 1] ?? ""];
    if (status === "A") await rm(path.join(worktree, file), { force: true, recursive: true });
    else restore.push(file);
  }
  if (restore.length > 0) await checkoutTree(worktree, tree, worktree, restore);
}

/**
 * Writes `treeish` (a commit or tree id) into the empty or new directory `dir`, without a `.git`:
 * the base commit's files for the before-run.
 * @param paths - only these repository paths (default: all).
 */
export async function checkoutTree(worktree: string, treeish: string, dir: string, paths?: readonly string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await withTempIndex(worktree, false, async (env) => {
    await git(["read-tree", treeish], { cwd: worktree, env });
    const prefix = `${path.resolve(dir)}${path.sep}`;
    if (paths === undefined) {
      await git(["checkout-index", "--all", "--force", `--prefix=${prefix}`], { cwd: worktree, env });
      return;
    }
    for (let i = 0; i < paths.length; i += 200) {
      await git(["checkout-index", "--force", `--prefix=${prefix}`, "--", ...paths.slice(i, i + 200)], { cwd: worktree, env });
    }
  });
}

/** One changed path between two trees; `status` is git's letter (A, M, D, R, C, T). */
export interface TreeChange {
  status: string;
  path: string;
  /** The path before a rename or copy. */
  from?: string;
}

/** The files changed from `base` to `tree`, with renames detected. */
export async function treeChanges(worktree: string, base: string, tree: string): Promise<TreeChange[]> {
  const { stdout } = await git(["diff-tree", "-r", "-z", "-M", "--name-status", base, tree], { cwd: worktree });
  const fields = stdout.split("\0").filter(Boolean);
  const changes: TreeChange[] = [];
  for (let i = 0; i < fields.length; ) {
    const status = (fields[i] ?? "").charAt(0);
    if (status === "R" || status === "C") {
      changes.push({ status, from: fields[i + 1] ?? "", path: fields[i + 2] ?? "" });
      i += 3;
    } else {
      changes.push({ status, path: fields[i + 1] ?? "" });
      i += 2;
    }
  }
  return changes;
}

/**
 * The unified diff from `base` to `tree` (no colour, no external diff driver, renames detected),
 * read from a file so a large diff is not cut to the output cap's tail.
 * @returns the text and whether it was longer than `MAX_DIFF_BYTES` (then cut there).
 */
export async function treeDiff(worktree: string, base: string, tree: string): Promise<{ text: string; truncated: boolean }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "backlog-bot-diff-"));
  const file = path.join(dir, "diff");
  try {
    await git(["diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M", `--output=${file}`, base, tree], { cwd: worktree });
    const size = (await stat(file)).size;
    const buffer = await readFile(file);
    return { text: buffer.subarray(0, MAX_DIFF_BYTES).toString("utf8"), truncated: size > MAX_DIFF_BYTES };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The files of commit or tree `treeish`, read from git objects (never from a work tree an agent changed). */
export async function gitTreeFiles(worktree: string, treeish: string): Promise<RepoFiles> {
  const { stdout } = await git(["ls-tree", "-z", "--name-only", treeish], { cwd: worktree });
  return {
    root: new Set(stdout.split("\0").filter(Boolean)),
    async read(file) {
      try {
        const { stdout: text } = await git(["cat-file", "blob", `${treeish}:${file}`], { cwd: worktree });
        return text;
      } catch {
        return null;
      }
    },
  };
}
