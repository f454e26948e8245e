import { BacklogBotError } from "../util/errors.js";
import { git } from "./git.js";

/** A file read at a commit: the commit id it was read at, and its text (undefined when the commit has no such file). */
export interface FileAtCommit {
  commit: string;
  text: string | undefined;
}

/**
 * Reads one file of a commit in a repository (a bare mirror or a work tree), resolving `rev` to
 * its commit first so a fetch running meanwhile cannot mix two commits. Only a regular file counts:
 * a directory or submodule of that name reads as absent.
 * @param maxBytes larger files are refused, not truncated: half a rules file is a wrong rules file.
 * @throws CommandError when `rev` names no commit or git fails; BacklogBotError `SCAN_FAILED` when
 *   the file is larger than `maxBytes`.
 */
export async function readFileAtCommit(cwd: string, rev: string, path: string, maxBytes: number): Promise<FileAtCommit> {
  const commit = (await git(["rev-parse", "--verify", "--end-of-options", `${rev}^{commit}`], { cwd })).stdout.trim();
  // `-z`: the path is not quoted; `-l` adds the size: `<mode> blob <oid> <size>\t<path>\0`.
  const listing = (await git(["ls-tree", "-z", "-l", commit, "--", path], { cwd })).stdout;
  const entry = listing.split("\0").find((line) => line.endsWith(`\t${path}`));
  const [mode, type, oid, size] = entry?.split("\t")[0]?.split(/\s+/) ?? [];
  if (!oid || type !== "blob" || mode === "120000") return { commit, text: undefined };
  if (Number(size) > maxBytes) {
    throw new BacklogBotError("SCAN_FAILED", `${path} at ${commit} is ${size} bytes, more than the ${maxBytes} read`);
  }
  const text = (await git(["cat-file", "blob", oid], { cwd })).stdout;
  return { commit, text };
}
