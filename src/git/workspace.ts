import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { git } from "./git.js";

/** Where a repository's mirror comes from. */
export interface MirrorOptions {
  dataDir: string;
  fullName: string;
  /** https clone URL from the webhook payload, or a local path / file:// URL. */
  cloneUrl: string;
  defaultBranch: string;
  /** A token, or a function minting one right before the fetch (https clone URLs only). */
  token?: string | (() => Promise<string>);
}

/**
 * Serialises git operations per mirror: two tasks of one repository must not fetch at once.
 * The map holds each key's tail, a promise that never rejects (so no derived promise can become an
 * unhandled rejection), and the entry is deleted when the last queued operation has settled.
 */
const locks = new Map<string, Promise<void>>();
export function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const next = previous.then(fn);
  const tail = next.then(
    () => undefined,
    () => undefined,
  );
  locks.set(key, tail);
  void tail.then(() => {
    if (locks.get(key) === tail) locks.delete(key);
  });
  return next;
}

/** How many mirrors have an operation queued or running (the lock map's size; for tests). */
export function pendingLocks(): number {
  return locks.size;
}

/** A git lock file older than this (ms) was left by a git that was killed: no git of ours holds one that long. */
export const STALE_LOCK_MS = 10 * 60_000;

/**
 * Removes the lock files (`*.lock`) of git directory `gitDir` (its top and `refs/`) older than
 * `STALE_LOCK_MS`. The app kills git itself (SIGKILL at shutdown, children of a crashed process at
 * start) and so does the OOM killer; git then leaves its lock behind, and every later fetch or
 * branch of that mirror failed with "Another git process seems to be running" until someone
 * removed it by hand. Call it inside `withLock` of the mirror.
 * @returns the paths removed.
 */
export async function removeStaleLocks(gitDir: string, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && depth > 0) await visit(full, depth - 1);
      else if (entry.isFile() && entry.name.endsWith(".lock")) {
        const info = await stat(full).catch(() => undefined);
        if (info && now - info.mtimeMs > STALE_LOCK_MS) {
          await rm(full, { force: true });
          removed.push(full);
        }
      }
    }
  };
  await visit(gitDir, 0);
  await visit(path.join(gitDir, "refs"), 16);
  return removed;
}

/**
 * `<dataDir>/mirrors/<readable-name>-<hash>.git`: readable, and unique even for local paths. The
 * hash is 128 bits of SHA-256: the readable part keeps only the name's last 60 characters, so with
 * 32 bits a repository named to end like another's could be brute-forced (about 2^32 tries) onto
 * its mirror, and read its code.
 */
export function mirrorPath(dataDir: string, fullName: string): string {
  const readable = fullName
    .replace(/^\/+/, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .slice(-60);
  const hash = createHash("sha256").update(fullName).digest("hex").slice(0, 32);
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
    await removeStaleLocks(mirror);
    if (!existsSync(path.join(mirror, "HEAD"))) {
      await mkdir(path.dirname(mirror), { recursive: true, mode: 0o700 });
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
    // Fetch from the URL itself, never a remote name: the helper is scoped to exactly this URL's host.
    await git(["fetch", "--prune", "--no-tags", "--quiet", options.cloneUrl, "+refs/heads/*:refs/remotes/origin/*"], {
      cwd: mirror,
      ...(options.token && /^https?:/.test(options.cloneUrl) && { token: options.token, remoteUrl: options.cloneUrl }),
    });
    return mirror;
  });
}

/**
 * A worktree of `mirror` at `<dataDir>/worktrees/task-<taskId>-<attempt>` on a new branch `branch`
 * made from `origin/<base>`. Each attempt gets a path of its own, so an agent left over from a dead
 * attempt can never write into the retry's worktree; worktrees of this task's earlier attempts are
 * removed first. Without `attempt` the path gets a unique suffix.
 * @returns the worktree's path and the commit it starts from (what the bot's own commit builds on).
 */
export async function createWorktree(
  mirror: string,
  dataDir: string,
  taskId: number,
  branch: string,
  base: string,
  attempt?: number,
): Promise<{ worktree: string; baseCommit: string }> {
  const root = path.join(dataDir, "worktrees");
  const suffix = attempt ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const worktree = path.join(root, `task-${taskId}-${suffix}`);
  return withLock(mirror, async () => {
    await removeStaleLocks(mirror);
    await mkdir(root, { recursive: true, mode: 0o700 });
    for (const name of await readdir(root)) {
      if (name === `task-${taskId}` || name.startsWith(`task-${taskId}-`))
        await rm(path.join(root, name), { recursive: true, force: true });
    }
    await git(["worktree", "prune"], { cwd: mirror });
    const { stdout } = await git(["rev-parse", "--verify", `refs/remotes/origin/${base}^{commit}`], { cwd: mirror });
    const baseCommit = stdout.trim();
    await git(["worktree", "add", "--quiet", "-B", branch, worktree, baseCommit], { cwd: mirror });
    return { worktree, baseCommit };
  });
}

/** `createWorktree` returning the path only (the executor's original signature). */
export async function addWorktree(
  mirror: string,
  dataDir: string,
  taskId: number,
  branch: string,
  base: string,
  attempt?: number,
): Promise<string> {
  return (await createWorktree(mirror, dataDir, taskId, branch, base, attempt)).worktree;
}

/**
 * Deletes the mirror of `fullName` (after any operation on it queued in this process): a repository
 * removed from the app leaves no copy of its code, and a later repository given the same name
 * (a transfer, a deleted one re-created, an account name taken over) does not start from the old
 * one's objects, which `fetch --prune` never removes.
 */
export async function removeMirror(dataDir: string, fullName: string): Promise<void> {
  const mirror = mirrorPath(dataDir, fullName);
  await withLock(mirror, () => rm(mirror, { recursive: true, force: true }));
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
