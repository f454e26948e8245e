import { constants, type Stats } from "node:fs";
import { lstat, mkdir, open, rm, unlink } from "node:fs/promises";
import path from "node:path";

/**
 * Host-side file access under a directory that a sandboxed process can write (an agent's HOME):
 * nothing here follows a symlink. An agent run may leave `~/prompt.md -> /any/host/file` or
 * `~/.codex -> /any/host/dir` behind, and the next run of the same attempt (another round, a
 * fallback agent) shares that HOME; a plain `writeFile` would then write the prompt or a config
 * file wherever the link points, with the bot's rights.
 *
 * The root itself is trusted (the bot created it and the sandbox cannot replace it); every path
 * component below it is checked with `lstat`. Between two agent runs no sandboxed process is
 * alive (its process tree dies with its PID namespace), so nothing races these checks.
 */

/**
 * The path segments of `relative`, which must be a plain relative path (no `..`, `.`, or empty
 * segment, not absolute).
 * @throws Error for any other path: a programming error, never the agent's doing.
 */
function segments(relative: string): string[] {
  const parts = relative.split(/[/\\]/);
  if (path.isAbsolute(relative) || parts.some((part) => part === "" || part === "." || part === "..")) {
    throw new Error(`not a plain relative path: ${JSON.stringify(relative)}`);
  }
  return parts;
}

/** `lstat`, or undefined when nothing is there. */
async function lstatOrNone(file: string): Promise<Stats | undefined> {
  try {
    return await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** @throws Error when `root` is not a real directory (a symlink to one is refused). */
async function requireRoot(root: string): Promise<void> {
  const stats = await lstat(root);
  if (!stats.isDirectory()) throw new Error(`${root} is not a directory`);
}

/**
 * The first folder of `rel` (a relative path under `root`, itself trusted: the bot made it) that is
 * a symbolic link, as a path relative to `root`, or null when every folder that exists is a real
 * one (a missing folder ends the walk: nothing below it exists). Every component of `rel` counts,
 * the last included. `rel` climbing out of `root` (absolute, or with `..`) counts as a link.
 * Checked with lstat, component by component: `rm -rf root/target/surefire-reports` and
 * `readdir` follow a `target` that links to `/X` (not the last component: `rm` removes a link it
 * is given and never follows it). Called when the run's commands have ended (the sandbox kills
 * their whole process tree), so nothing is left to swap a folder between this check and the use.
 */
export async function symlinkOnPath(root: string, rel: string): Promise<string | null> {
  const parts = path
    .normalize(rel)
    .split(path.sep)
    .filter((p) => p && p !== ".");
  if (path.isAbsolute(rel) || parts.includes("..")) return rel;
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join(path.sep);
    const stats = await lstat(path.join(root, sub)).catch(() => null);
    if (!stats) return null;
    if (stats.isSymbolicLink()) return sub;
    if (!stats.isDirectory()) return null;
  }
  return null;
}

/**
 * Writes `data` to `root/relative` without following any symlink: each directory between `root`
 * and the file that is missing, a symlink (the link itself is removed, never its target) or not a
 * directory is replaced by a new directory (mode 0o700); whatever is at the file's own path is
 * removed, and the file is created anew with `O_CREAT|O_EXCL` (flag `wx`, which also refuses a
 * symlink that appeared meanwhile) and mode 0o600.
 * @param root - a directory the bot created (an attempt's HOME); trusted, not re-checked beyond being a real directory.
 * @param relative - e.g. `prompt.md` or `.codex/config.toml`: `/`-separated, no `..`.
 * @throws Error for a `relative` that is not a plain relative path, a `root` that is not a real
 *   directory, or a file system error (e.g. EEXIST when something re-created the file meanwhile).
 */
export async function writeConfinedFile(root: string, relative: string, data: string | Uint8Array): Promise<void> {
  const parts = segments(relative);
  await requireRoot(root);
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    const stats = await lstatOrNone(dir);
    if (stats?.isDirectory()) continue;
    // rm on a symlink removes the link, not its target; a file or FIFO there is removed too.
    if (stats) await rm(dir, { force: true });
    await mkdir(dir, { mode: 0o700 });
  }
  const file = path.join(dir, parts[parts.length - 1] as string);
  const stats = await lstatOrNone(file);
  // A real directory at the file's path is the agent's and goes (rm does not follow links inside it).
  if (stats?.isDirectory()) await rm(file, { recursive: true, force: true });
  else if (stats) await unlink(file);
  const handle = await open(file, "wx", 0o600);
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}

/**
 * Reads `root/relative` as UTF-8 without following any symlink: undefined when a directory
 * between `root` and the file is not a real directory, when the file is a symlink
 * (`O_NOFOLLOW`), not a regular file (a FIFO is opened non-blocking, so it cannot hold the
 * caller), missing, or larger than `maxBytes`.
 * @param root - a directory the bot created (an attempt's HOME).
 * @param relative - e.g. `.codex/backlog-bot-usage.json`: `/`-separated, no `..`.
 * @param maxBytes - the largest file read (bytes); a bigger one is treated as absent.
 * @throws Error for a `relative` that is not a plain relative path; never for what the agent left.
 */
export async function readConfinedFile(root: string, relative: string, maxBytes: number): Promise<string | undefined> {
  const parts = segments(relative);
  try {
    await requireRoot(root);
    // A folder on the way that is a link: refused; one that is a file: the open fails (ENOTDIR).
    if ((await symlinkOnPath(root, parts.slice(0, -1).join("/"))) !== null) return undefined;
    const handle = await open(path.join(root, ...parts), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const stats = await handle.stat();
      if (!stats.isFile() || stats.size > maxBytes) return undefined;
      // Read to the end, one byte past the cap: the file may have grown since fstat.
      const buffer = Buffer.alloc(maxBytes + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > maxBytes) return undefined;
      }
      return buffer.subarray(0, length).toString("utf8");
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}
