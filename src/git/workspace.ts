import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { git } from "./git.js";

/** Where a repository's mirror comes from. */
export interface MirrorOptions {
  dataDir: string;
  fullName: string;
  /** https clone URL from the webhook payload, or a local path / file:// URL. */
  cloneUrl: string;
  defaultBranch: string;
  token?: string;
}

/** Serialises git operations per mirror: two tasks of one repository must not fetch at once. */
const locks = new Map<string, Promise<unknown>>();
function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(fn);
  locks.set(
    key,
    next.finally(() => {
      if (locks.get(key) === next) locks.delete(key);
    }),
  );
  return next;
}

/** `<dataDir>/mirrors/<readable-name>-<hash>.git`: readable, and unique even for local paths. */
export function mirrorPath(dataDir: string, fullName: string): string {
  const readable = fullName
    .replace(/^\/+/, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .slice(-60);
  const hash = createHash("sha256").update(fullName).digest("hex").slice(0, 8);
  return path.join(dataDir, "mirrors", `${readable}-${hash}.git`);
}

/**
 * Brings the repository's bare mirror up to date (cloning it the first time) and returns its path.
 * Branches land under `refs/remotes/origin/*` so that a fetch never collides with a branch a
 * worktree has checked out; scan or branch from `refs/remotes/origin/<defaultBranch>`.
 * @throws CommandError when git cannot clone or fetch (bad URL, no access).
 */
export async function syncMirror(options: MirrorOptions): Promise<string> {
  const mirror = mirrorPath(options.dataDir, options.fullName);
  return withLock(mirror, async () => {
    if (!existsSync(path.join(mirror, "HEAD"))) {
      await mkdir(path.dirname(mirror), { recursive: true });
      const partial = `${mirror}.partial-${process.pid}`;
      await rm(partial, { recursive: true, force: true });
      await git(["init", "--bare", "--quiet", partial], { cwd: path.dirname(mirror) });
      await git(["remote", "add", "origin", options.cloneUrl], { cwd: partial });
      await git(["config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"], { cwd: partial });
      await git(["config", "gc.auto", "0"], { cwd: partial });
      await rename(partial, mirror);
    }
    // The URL can change (a repository renamed or transferred); keep it as GitHub says it is now.
    await git(["remote", "set-url", "origin", options.cloneUrl], { cwd: mirror });
    await git(["fetch", "--prune", "--no-tags", "--quiet", "origin"], { cwd: mirror, ...(options.token && { token: options.token }) });
    return mirror;
  });
}

/**
 * A worktree of `mirror` at `<dataDir>/worktrees/task-<taskId>` on a new branch `branch` made from
 * `origin/<base>`. A worktree left by a crashed earlier attempt is replaced.
 */
export async function addWorktree(mirror: string, dataDir: string, taskId: number, branch: string, base: string): Promise<string> {
  const worktree = path.join(dataDir, "worktrees", `task-${taskId}`);
  return withLock(mirror, async () => {
    await rm(worktree, { recursive: true, force: true });
    await git(["worktree", "prune"], { cwd: mirror });
    await mkdir(path.dirname(worktree), { recursive: true });
    await git(["worktree", "add", "--quiet", "-B", branch, worktree, `refs/remotes/origin/${base}`], { cwd: mirror });
    return worktree;
  });
}

/** Removes a worktree and its branch from the mirror; never throws (cleanup must not mask the real outcome). */
export async function removeWorktree(mirror: string, worktree: string, branch: string): Promise<void> {
  await withLock(mirror, async () => {
    await rm(worktree, { recursive: true, force: true });
    await git(["worktree", "prune"], { cwd: mirror }).catch(() => {});
    await git(["branch", "-D", branch], { cwd: mirror }).catch(() => {});
  });
}

/**
 * Saves the mirror's config before an agent runs and returns a function that puts it back. A
 * worktree's `.git` points into the mirror, so an agent can run `git config` there: hooks,
 * `url.*.insteadOf`, credential helpers. Restoring the file means nothing it set survives into the
 * bot's own commit and push.
 */
export async function protectMirrorConfig(mirror: string, worktree: string): Promise<() => Promise<void>> {
  const file = path.join(mirror, "config");
  const saved = await readFile(file);
  return async () => {
    await writeFile(file, saved);
    await rm(path.join(mirror, "config.worktree"), { force: true });
    await rm(path.join(mirror, "worktrees", path.basename(worktree), "config.worktree"), { force: true });
  };
}
