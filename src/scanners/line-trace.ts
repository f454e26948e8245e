import { keptByEveryMinimalDiff } from "./line-match.js";

/*
 * Following a line from one version of a file to the one before, without a diff, wherever every
 * diff would agree. git's xdiff first matches the longest common prefix and suffix of lines
 * (`xdl_trim_ends`), runs its algorithm on the middle only, and may then slide a group of changed
 * lines only across lines equal to lines of that group (`xdl_change_compact`). So a line of the
 * common prefix or suffix whose text appears in neither middle is unchanged under any of git's
 * diff algorithms, and a line whose text the older version lacks entirely was added. A line
 * unchanged between two changes is settled by line-match.ts where every minimal diff keeps it.
 * Anything else needs git's own diff (blob-walk.ts asks for it).
 */

/** A blob split into lines: `ends[i]` is the byte offset just past line i (its newline included). */
export interface Lines {
  bytes: Buffer;
  ends: Uint32Array;
  /** Whether the last line lacks a newline (git then treats it as different from the same text with one). */
  unterminated: boolean;
}

/** Splits `bytes` into lines at `\n`, as xdiff does. */
export function linesOf(bytes: Buffer): Lines {
  const ends: number[] = [];
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) ends.push(at + 1);
  const unterminated = bytes.length > 0 && bytes[bytes.length - 1] !== 10;
  if (unterminated) ends.push(bytes.length);
  return { bytes, ends: Uint32Array.from(ends), unterminated };
}

const startOf = (lines: Lines, i: number): number => (i === 0 ? 0 : (lines.ends[i - 1] as number));

/** Whether line `i` of `a` and line `j` of `b` are the same bytes (newline included). */
function sameLine(a: Lines, i: number, b: Lines, j: number): boolean {
  const [as, ae, bs, be] = [startOf(a, i), a.ends[i] as number, startOf(b, j), b.ends[j] as number];
  return ae - as === be - bs && a.bytes.compare(b.bytes, bs, be, as, ae) === 0;
}

/** Whether any line of `lines` in `[from, to)` is the same as line `j` of `of`. */
function appearsIn(lines: Lines, from: number, to: number, of: Lines, j: number): boolean {
  return indexIn(lines, from, to, of, j) >= 0;
}

/** The first line of `lines` in `[from, to)` that is the same as line `j` of `of`, or -1. */
function indexIn(lines: Lines, from: number, to: number, of: Lines, j: number): number {
  const length = (of.ends[j] as number) - startOf(of, j);
  for (let i = from; i < to; i++) {
    if ((lines.ends[i] as number) - startOf(lines, i) === length && sameLine(lines, i, of, j)) return i;
  }
  return -1;
}

/** Bytes equal at the start of both buffers. */
function commonPrefixBytes(a: Buffer, b: Buffer): number {
  const max = Math.min(a.length, b.length);
  const CHUNK = 4096;
  let at = 0;
  while (at + CHUNK <= max && a.compare(b, at, at + CHUNK, at, at + CHUNK) === 0) at += CHUNK;
  while (at < max && a[at] === b[at]) at++;
  return at;
}

/** Bytes equal at the end of both buffers, at most `max`. */
function commonSuffixBytes(a: Buffer, b: Buffer, max: number): number {
  const CHUNK = 4096;
  let n = 0;
  while (n + CHUNK <= max && a.compare(b, b.length - n - CHUNK, b.length - n, a.length - n - CHUNK, a.length - n) === 0) n += CHUNK;
  while (n < max && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

/** The change between two versions of a file, as lines: the common prefix and suffix, and their line counts. */
export interface LineChange {
  older: Lines;
  newer: Lines;
  /** Lines equal at the start of both. */
  prefix: number;
  /** Lines equal at the end of both (not overlapping the prefix). */
  suffix: number;
}

/** The common prefix and suffix of two versions, in whole lines. */
export function lineChange(older: Lines, newer: Lines): LineChange {
  const bytes = commonPrefixBytes(older.bytes, newer.bytes);
  // Whole lines inside the equal bytes; an unterminated last line is never whole unless both end the same way.
  let prefix = 0;
  while (prefix < newer.ends.length && (newer.ends[prefix] as number) <= bytes && prefix < older.ends.length) {
    if (newer.ends[prefix] === newer.bytes.length && newer.unterminated) break;
    prefix++;
  }
  const room = Math.min(older.bytes.length, newer.bytes.length) - startOf(newer, prefix);
  const tail = commonSuffixBytes(older.bytes, newer.bytes, Math.max(0, room));
  const shift = newer.bytes.length - older.bytes.length;
  let suffix = 0;
  const maxSuffix = Math.min(older.ends.length, newer.ends.length) - prefix;
  while (suffix < maxSuffix) {
    const i = newer.ends.length - 1 - suffix;
    const start = startOf(newer, i);
    // The line lies in the equal tail, and the older version has a line starting at the same place.
    if (newer.bytes.length - start > tail) break;
    const olderStart = start - shift;
    if (olderStart !== 0 && older.bytes[olderStart - 1] !== 10) break;
    suffix++;
  }
  return { older, newer, prefix, suffix };
}

/** Where a line of the newer version came from: added by the change, kept (its 0-based index before), or unknown without a diff. */
export type LineOrigin = { kind: "added" } | { kind: "kept"; at: number } | { kind: "unknown" };

/** Traces line `i` (0-based) of `change.newer` to `change.older` (see the file's comment for why this is exact). */
export function traceLine(change: LineChange, i: number): LineOrigin {
  const { older, newer, prefix, suffix } = change;
  if (i < 0 || i >= newer.ends.length) return { kind: "unknown" };
  const newerMiddleEnd = newer.ends.length - suffix;
  const olderMiddleEnd = older.ends.length - suffix;
  if (i >= prefix && i < newerMiddleEnd) {
    const at = indexIn(older, prefix, olderMiddleEnd, newer, i);
    if (at >= 0 && keptByEveryMinimalDiff(change, i, at)) return { kind: "kept", at };
    return appearsIn(older, 0, older.ends.length, newer, i) ? { kind: "unknown" } : { kind: "added" };
  }
  if (appearsIn(newer, prefix, newerMiddleEnd, newer, i) || appearsIn(older, prefix, olderMiddleEnd, newer, i)) return { kind: "unknown" };
  return { kind: "kept", at: i < prefix ? i : i - (newer.ends.length - older.ends.length) };
}
