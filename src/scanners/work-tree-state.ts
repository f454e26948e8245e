import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readlinkSync, type Stats } from "node:fs";
import path from "node:path";
import type { ScanState } from "./attribution-cache.js";
import { type GitSource, git, probeWorkTree } from "./git-source.js";

/*
 * A work tree's state read from its files, without `git status`, which costs as much as the rest
 * of a warm rescan (it also lists untracked files), and several times more on a loaded machine.
 * A small work tree is compared with its index here, read by the index format
 * (https://git-scm.com/docs/index-format); anything this does not handle exactly (split or sparse
 * index, unmerged or intent-to-add entries, SHA-256, reftable) answers `undefined`, and the caller
 * asks git. A large one is compared by `git diff-files` (`IN_PROCESS_ENTRIES`).
 */

/** Where a work tree's git files are: its own git directory, and the common one of linked work trees. */
export interface GitDirs {
  gitDir: string;
  commonDir: string;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The git directories of a work tree's top (`.git` is a directory, or a `gitdir:` file for linked work trees and submodules). */
export function gitDirsOf(workTree: string): GitDirs {
  let gitDir = path.join(workTree, ".git");
  const pointer = /^gitdir: (.+)$/m.exec(readText(gitDir) ?? "");
  if (pointer?.[1]) gitDir = path.resolve(workTree, pointer[1].trim());
  const common = readText(path.join(gitDir, "commondir"))?.trim();
  return { gitDir, commonDir: common ? path.resolve(gitDir, common) : gitDir };
}

const OBJECT_ID = /^[0-9a-f]{40}$/;

/** The commit HEAD names (through one symbolic ref, loose or packed), or undefined when unsure. */
export function readHeadCommit(dirs: GitDirs): string | undefined {
  const head = readText(path.join(dirs.gitDir, "HEAD"))?.trim();
  if (!head) return undefined;
  if (OBJECT_ID.test(head)) return head;
  const ref = /^ref: (refs\/\S+)$/.exec(head)?.[1];
  if (!ref || ref.includes("..")) return undefined;
  const loose = readText(path.join(dirs.commonDir, ref))?.trim();
  if (loose !== undefined) return OBJECT_ID.test(loose) ? loose : undefined; // a symref chain or reftable's stub: ask git
  for (const line of (readText(path.join(dirs.commonDir, "packed-refs")) ?? "").split("\n")) {
    if (line.endsWith(` ${ref}`) && OBJECT_ID.test(line.slice(0, 40))) return line.slice(0, 40);
  }
  return undefined;
}

/** One stage-0 index entry: what `git status` compares the work-tree file with. */
interface IndexEntry {
  path: string;
  ctimeS: number;
  ctimeN: number;
  mtimeS: number;
  mtimeN: number;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  oid: string;
  /** assume-unchanged, skip-worktree or a gitlink: `git status --ignore-submodules=all` skips it. */
  skip: boolean;
}

/** An index file read whole: its entries and its stamp (`stampOf`: whether it changed). */
export interface IndexSnapshot {
  stamp: string;
  /**
   * Modification time of the index file, in ms as Node gives it (`Stats.mtimeMs`, sub-µs
   * precision): an entry at least this new is "racily clean" (git's rule).
   */
  mtimeMs: number;
  entries: IndexEntry[];
}

/**
 * The SHA-1 of an index file's content: the checksum git writes as its last 20 bytes, or, when
 * git wrote none (`index.skipHash`: zeros), computed here.
 */
function stampOf(bytes: Buffer): string {
  const trailer = bytes.length >= 20 ? bytes.toString("hex", bytes.length - 20) : "";
  return trailer && !/^0+$/.test(trailer) ? trailer : createHash("sha1").update(bytes).digest("hex");
}

/** The index file's stamp (`stampOf`), or undefined when there is none. */
export function indexStamp(dirs: GitDirs): string | undefined {
  try {
    return stampOf(readFileSync(path.join(dirs.gitDir, "index")));
  } catch {
    return undefined;
  }
}

/** The index file's bytes and modification time (ms, `Stats.mtimeMs`), or undefined when there is none. */
function readIndexFile(dirs: GitDirs): { bytes: Buffer; mtimeMs: number } | undefined {
  const file = path.join(dirs.gitDir, "index");
  try {
    const mtimeMs = lstatSync(file).mtimeMs;
    return { bytes: readFileSync(file), mtimeMs };
  } catch {
    return undefined;
  }
}

/** Parses the index (versions 2 to 4), or undefined when it holds anything `changedFiles` could misread. */
export function readIndex(dirs: GitDirs): IndexSnapshot | undefined {
  const file = readIndexFile(dirs);
  return file && parseIndex(dirs, file.bytes, file.mtimeMs);
}

function parseIndex(dirs: GitDirs, bytes: Buffer, mtimeMs: number): IndexSnapshot | undefined {
  if (bytes.length < 32 || bytes.toString("latin1", 0, 4) !== "DIRC") return undefined;
  // Entries of a SHA-256 repository hold 32-byte ids: another layout.
  if (/^\s*objectformat\s*=\s*sha256/im.test(readText(path.join(dirs.commonDir, "config")) ?? "")) return undefined;
  const version = bytes.readUInt32BE(4);
  if (version < 2 || version > 4) return undefined;
  const count = bytes.readUInt32BE(8);
  const end = bytes.length - 20; // the trailing checksum
  const entries: IndexEntry[] = [];
  let at = 12;
  let previous: Buffer = Buffer.alloc(0);
  for (let i = 0; i < count; i++) {
    const start = at;
    if (start + 62 > end) return undefined;
    const flags = bytes.readUInt16BE(start + 60);
    const extended = (flags & 0x4000) !== 0;
    const extra = extended ? bytes.readUInt16BE(start + 62) : 0;
    if ((flags & 0x3000) !== 0 || (extra & 0x2000) !== 0) return undefined; // unmerged, or intent-to-add
    let nameAt = start + 62 + (extended ? 2 : 0);
    let name: Buffer;
    if (version === 4) {
      // The name is the previous one less N bytes, plus a NUL-terminated suffix (N an offset varint).
      let c = bytes[nameAt++] as number;
      let strip = c & 127;
      while (c & 128) {
        c = bytes[nameAt++] as number;
        strip = ((strip + 1) << 7) | (c & 127);
      }
      const nul = bytes.indexOf(0, nameAt);
      if (nul < 0 || nul >= end || strip > previous.length) return undefined;
      name = Buffer.concat([previous.subarray(0, previous.length - strip), bytes.subarray(nameAt, nul)]);
      at = nul + 1;
    } else {
      const nul = bytes.indexOf(0, nameAt);
      if (nul < 0 || nul >= end) return undefined;
      name = bytes.subarray(nameAt, nul);
      at = start + ((nul - start + 8) & ~7); // entry length padded with 1-8 NULs to a multiple of 8
    }
    previous = name;
    const mode = bytes.readUInt32BE(start + 24);
    entries.push({
      path: name.toString("utf8"),
      ctimeS: bytes.readUInt32BE(start),
      ctimeN: bytes.readUInt32BE(start + 4),
      mtimeS: bytes.readUInt32BE(start + 8),
      mtimeN: bytes.readUInt32BE(start + 12),
      ino: bytes.readUInt32BE(start + 20),
      mode,
      uid: bytes.readUInt32BE(start + 28),
      gid: bytes.readUInt32BE(start + 32),
      size: bytes.readUInt32BE(start + 36),
      oid: bytes.toString("hex", start + 40, start + 60),
      skip: (flags & 0x8000) !== 0 || (extra & 0x4000) !== 0 || (mode & 0o170000) === 0o160000,
    });
  }
  for (let ext = at; ext + 8 <= end; ) {
    const signature = bytes[ext] as number;
    if (signature < 0x41 || signature > 0x5a) return undefined; // a required extension ("link", "sdir"...)
    ext += 8 + bytes.readUInt32BE(ext + 4);
  }
  return { stamp: stampOf(bytes), mtimeMs, entries };
}

/** A time as Node computes `Stats.mtimeMs` from seconds and nanoseconds: the same operations give the same double. */
const msOf = (seconds: number, nanoseconds: number): number => seconds * 1e3 + nanoseconds / 1e6;

/**
 * Whether the file's stat data equals what the index recorded (git's `ie_match_stat` fields; dev
 * is not compared, as in git by default). Times are compared as Node's millisecond doubles,
 * exact to a fraction of a microsecond: finer than git built without `USE_NSEC` (Debian's), which
 * compares whole seconds. Sizes and inodes are compared modulo 2^32, as the index stores them.
 */
function statMatches(entry: IndexEntry, st: Stats): boolean {
  return (
    st.mtimeMs === msOf(entry.mtimeS, entry.mtimeN) &&
    st.ctimeMs === msOf(entry.ctimeS, entry.ctimeN) &&
    st.size >>> 0 === entry.size &&
    st.ino >>> 0 === entry.ino &&
    st.uid === entry.uid &&
    st.gid === entry.gid
  );
}

/** Whether the file's content hashes to blob id `oid` (a symbolic link's content is its target). */
function contentMatches(file: string, oid: string, symlink: boolean): boolean {
  let content: Buffer;
  try {
    content = symlink ? Buffer.from(readlinkSync(file)) : readFileSync(file);
  } catch {
    return false;
  }
  return createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex") === oid;
}

/**
 * The tracked paths whose work-tree content differs from the index (modified, deleted, or of
 * another type), as `git status` finds them: the stat data first, and the content hashed when
 * the stat data differs or the entry is "racily clean" (its mtime is not older than the index
 * file's: the file may have changed within the same timestamp after the index was written).
 * ctime is compared too, so a file edited and given its old mtime back is still found. A
 * file whose only change is its mode, or whose content a clean filter would map to the same blob,
 * may be listed where git lists nothing, or the reverse for mode: harmless, as a listed file is
 * only read and blamed again, and a mode alone changes no TODO.
 */
export function changedFiles(workTree: string, index: IndexSnapshot): Set<string> {
  const changed = new Set<string>();
  const top = `${workTree}/`; // index paths are normalised and relative: no path.join per file
  for (const entry of index.entries) {
    if (entry.skip) continue;
    const file = top + entry.path;
    let st: Stats | undefined;
    try {
      st = lstatSync(file, { throwIfNoEntry: false });
    } catch {
      st = undefined; // a parent became a file (ENOTDIR): deleted
    }
    const symlink = (entry.mode & 0o170000) === 0o120000;
    if (!st || (symlink ? !st.isSymbolicLink() : !st.isFile())) {
      changed.add(entry.path);
      continue;
    }
    // Equal doubles for times a fraction of a microsecond apart only make more entries racy: hashed.
    const racy = st.mtimeMs >= index.mtimeMs;
    if ((racy || !statMatches(entry, st)) && !contentMatches(file, entry.oid, symlink)) changed.add(entry.path);
  }
  return changed;
}

/**
 * `changedFiles` by `git diff-files`: the tracked paths whose work-tree file differs from the
 * index. diff-files does not refresh the index, so it also lists files whose stat data alone
 * changed (touched, or rewritten with the same bytes); those whose content still hashes to the
 * index's blob are dropped here, as `changedFiles` does. Submodules are ignored, as in `probeWorkTree`.
 * @throws CommandError when git fails.
 */
export async function modifiedFiles(source: GitSource & { workTree: string }): Promise<Set<string>> {
  const out = await git(source, ["diff-files", "-z", "--ignore-submodules=all"]);
  const fields = out.stdout.split("\0");
  const changed = new Set<string>();
  // Each entry is ":<old mode> <new mode> <index blob> <work-tree blob> <status>" then the path.
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const meta = /^:(\d{6}) \d{6} ([0-9a-f]{40,64}) [0-9a-f]{40,64} ([A-Z])/.exec(fields[i] as string);
    const file = fields[i + 1] as string;
    if (meta?.[3] === "M" && contentMatches(`${source.workTree}/${file}`, meta[2] as string, meta[1] === "120000")) continue;
    changed.add(file);
  }
  return changed;
}

/**
 * Above this many index entries the work tree is judged by `git diff-files` rather than in this
 * process. Before V8 has optimised them (a fresh CLI process, or a server's first rescan), Node's
 * `lstatSync` and the index parse cost ~8 µs a file, against ~1 µs in git plus one spawn
 * (~5 ms): on renovate's 3,950 files 20-30 ms in process, 5-8 ms by git (docs/benchmarks.md §4).
 * Below it, spawning costs more than the files.
 */
export const IN_PROCESS_ENTRIES = 1_000;

/** A work tree's HEAD, its paths with uncommitted changes, and the index's stamp they were judged against. */
export interface WorkTreeProbe {
  head: string | undefined;
  dirty: Set<string>;
  /** `indexStamp` as read before the judgement (undefined: no index file). */
  index?: string;
}

/**
 * The work tree's state for a scan. When the last scan saw no uncommitted change, and HEAD and
 * the index file are what they were then (same commit, same index bytes), nothing can be staged,
 * so the uncommitted paths are the files whose content differs from the index: read here from
 * the files (`changedFiles`) with no process, or, in a large work tree, by `git diff-files`
 * (`modifiedFiles`). Otherwise one `git status` answers, and the index's stamp is read before it
 * runs, so a stamp never vouches for an index git did not see.
 * @throws CommandError when git status or git diff-files fails.
 */
export async function probeWorkTreeState(source: GitSource & { workTree: string }, last: ScanState | undefined): Promise<WorkTreeProbe> {
  const dirs = gitDirsOf(source.workTree);
  if (last?.index && !last.dirty?.length) {
    const head = readHeadCommit(dirs);
    const file = head === last.commit ? readIndexFile(dirs) : undefined;
    if (file && file.bytes.length >= 32 && stampOf(file.bytes) === last.index) {
      if (file.bytes.readUInt32BE(8) > IN_PROCESS_ENTRIES) return { head, dirty: await modifiedFiles(source), index: last.index };
      const index = parseIndex(dirs, file.bytes, file.mtimeMs);
      if (index) return { head, dirty: changedFiles(source.workTree, index), index: index.stamp };
    }
  }
  const index = indexStamp(dirs);
  return { ...(await probeWorkTree(source)), ...(index && { index }) };
}
