import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readlinkSync, type Stats } from "node:fs";
import path from "node:path";
import type { ScanState } from "./attribution-cache.js";
import { type GitSource, probeWorkTree } from "./git-source.js";

/*
 * A work tree's state read from its files, without a git process: spawning `git status` costs
 * as much as the rest of a warm rescan, and several times more on a loaded machine. Read by the
 * index format (https://git-scm.com/docs/index-format); anything this does not handle exactly
 * (split or sparse index, unmerged or intent-to-add entries, SHA-256, reftable) answers
 * `undefined`, and the caller asks git.
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

/** Parses the index (versions 2 to 4), or undefined when it holds anything `changedFiles` could misread. */
export function readIndex(dirs: GitDirs): IndexSnapshot | undefined {
  const file = path.join(dirs.gitDir, "index");
  let bytes: Buffer;
  let mtimeMs: number;
  try {
    mtimeMs = lstatSync(file).mtimeMs;
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
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

/** Whether the file's content hashes to the entry's blob id (a symbolic link's content is its target). */
function contentMatches(file: string, entry: IndexEntry, symlink: boolean): boolean {
  let content: Buffer;
  try {
    content = symlink ? Buffer.from(readlinkSync(file)) : readFileSync(file);
  } catch {
    return false;
  }
  return createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex") === entry.oid;
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
    if ((racy || !statMatches(entry, st)) && !contentMatches(file, entry, symlink)) changed.add(entry.path);
  }
  return changed;
}

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
 * the files (`changedFiles`), with no process. Otherwise one `git status` answers, and the index's
 * stamp is read before it runs, so a stamp never vouches for an index git did not see.
 * @throws CommandError when git status fails.
 */
export async function probeWorkTreeState(source: GitSource & { workTree: string }, last: ScanState | undefined): Promise<WorkTreeProbe> {
  const dirs = gitDirsOf(source.workTree);
  if (last?.index && !last.dirty?.length) {
    const head = readHeadCommit(dirs);
    const index = head === last.commit ? readIndex(dirs) : undefined;
    if (index && index.stamp === last.index) return { head, dirty: changedFiles(source.workTree, index), index: index.stamp };
  }
  const index = indexStamp(dirs);
  return { ...(await probeWorkTree(source)), ...(index && { index }) };
}
