import os from "node:os";
import {
  type BlameTarget,
  type FileHistory,
  type KnownVersion,
  type LineAuthor,
  type Touch,
  type WalkEnd,
  walkFile,
} from "./blame-history.js";
import type { BlobReader } from "./blob-reader.js";
import { type LineChange, type Lines, lineChange, linesOf, traceLine } from "./line-trace.js";

/*
 * The replay of a file's history by its blobs: each commit that touched the file (from `git log
 * --raw`, which prints no patch) is undone by comparing the file's two versions (line-trace.ts,
 * line-match.ts), newest first, and the walk stops as soon as every line it follows is explained.
 * `git log -p` over the same files diffs every version of every file in their directories,
 * whether or not a line of interest is in it: on renovate (3,086 commits within the horizon, 365
 * files) that was about 1 s of CPU in git. Only the changes a repeated line leaves ambiguous go to
 * git, as the patches of the walk's remaining commits (`git diff-tree --stdin`). A walk holds two
 * versions of its file at a time.
 */

/** One file's walk in progress. */
interface Walk {
  file: string;
  touches: Touch[];
  /** Index of the next touch to undo. */
  next: number;
  /** Blob id of the version the walk is at. */
  blob: string | undefined;
  lines?: Lines;
  /** Lines still followed: the scanned line, and where it is (1-based) in the current version. */
  open: { line: number; at: number }[];
  found: Map<number, LineAuthor>;
}

/** How a walk that needs git's diffs is finished. */
export type ReadPatches = (commits: string[], paths: string[]) => Promise<FileHistory>;

/**
 * Replays `touches` (newest first, as `git log --raw` prints them) for each file of `targets`,
 * reading versions through `reader`, and ends each as `walkFile` would have with every patch:
 * `done`, `exhausted` (lines older than the touches) or `broken` (no simple chain: blame it).
 * Walks that meet a change only a diff can settle finish on `readPatches` of their remaining commits.
 * Never rejects: a missing blob or failed git leaves the file `broken`.
 */
export async function walkByBlobs(
  reader: BlobReader,
  targets: Map<string, BlameTarget>,
  touches: Map<string, Touch[]>,
  known: KnownVersion | undefined,
  readPatches: ReadPatches,
  onBroken?: (file: string) => void,
): Promise<Map<string, WalkEnd>> {
  const ends = new Map<string, WalkEnd>();
  // A file no walk can explain is reported at once, so its `git blame` overlaps with the other walks.
  const end = (file: string, how: WalkEnd): void => {
    ends.set(file, how);
    if (how.kind === "broken") onBroken?.(file);
  };
  const waiting: Walk[] = [];
  let active: Walk[] = [...targets].map(([file, target]) => ({
    file,
    touches: touches.get(file) ?? [],
    next: 0,
    blob: target.blob,
    open: target.lines.map((line) => ({ line, at: line })),
    found: new Map(),
  }));
  // A walk that meets a change only git's diff settles is finished on the patches of its remaining
  // commits by `git diff-tree`, while the other walks go on by blobs: up to one process per core,
  // each taking every walk waiting when it starts.
  const running = new Set<Promise<void>>();
  const patchWaiting = (): void => {
    if (running.size >= PATCH_PROCESSES || waiting.length === 0) return;
    const batch = waiting.splice(0);
    const run: Promise<void> = finishWithPatches(batch, known, readPatches, end)
      .catch(() => {
        for (const walk of batch) if (!ends.has(walk.file)) end(walk.file, { kind: "broken" });
      })
      .finally(() => {
        running.delete(run);
        patchWaiting();
      });
    running.add(run);
  };
  while (active.length > 0) {
    const ids = new Set<string>();
    for (const walk of active) {
      const touch = walk.touches[walk.next];
      if (touch?.status !== "M" || touch.newBlob !== walk.blob) continue;
      if (!walk.lines) ids.add(touch.newBlob);
      ids.add(touch.oldBlob);
    }
    const blobs = ids.size ? await reader.read([...ids]) : new Map<string, Buffer | undefined>();
    const still: Walk[] = [];
    for (const walk of active) {
      const how = step(walk, blobs, known);
      if (how === "patch") waiting.push(walk);
      else if (how) end(walk.file, how);
      else still.push(walk);
    }
    active = still;
    patchWaiting();
  }
  while (running.size > 0) await Promise.race(running);
  return ends;
}

/** `git diff-tree` processes at once: the core count (on 2 cores, the built bench repository's cold scan took 530–650 ms against 650–735 ms with one). */
const PATCH_PROCESSES = Math.max(1, os.availableParallelism());

/** Marks the walk's open lines as found in a version whose attribution is known; false when it lacks one. */
function fromKnown(walk: Walk, known: KnownVersion | undefined): boolean {
  const lines = walk.blob ? known?.(walk.file, walk.blob) : undefined;
  if (!lines || !walk.open.every((entry) => lines.has(entry.at))) return false;
  for (const entry of walk.open) walk.found.set(entry.line, lines.get(entry.at) as LineAuthor);
  return true;
}

/** Undoes one touch: the walk's end, `patch` when only a diff can tell, or undefined to go on. */
function step(walk: Walk, blobs: Map<string, Buffer | undefined>, known: KnownVersion | undefined): WalkEnd | "patch" | undefined {
  const touch = walk.touches[walk.next];
  if (!touch) {
    if (!walk.blob) return { kind: "broken" };
    if (walk.touches.length > 0 && fromKnown(walk, known)) return { kind: "done", found: walk.found };
    return { kind: "exhausted", found: walk.found, open: walk.open.map((e) => e.line), blob: walk.blob };
  }
  if (!walk.blob || touch.newBlob !== walk.blob) return { kind: "broken" };
  if (walk.next > 0 && fromKnown(walk, known)) return { kind: "done", found: walk.found };
  if (touch.status === "A") {
    for (const { line } of walk.open) walk.found.set(line, touch.by);
    return { kind: "done", found: walk.found, ...(!touch.root && { createdBy: touch.by.commit }) };
  }
  if (touch.status !== "M") return { kind: "broken" };
  const newer = walk.lines ?? bytesToLines(blobs.get(touch.newBlob));
  const older = bytesToLines(blobs.get(touch.oldBlob));
  if (!newer || !older) return { kind: "broken" };
  walk.lines = newer;
  const change: LineChange = lineChange(older, newer);
  const origins = walk.open.map((entry) => traceLine(change, entry.at - 1));
  if (origins.some((o) => o.kind === "unknown")) return "patch";
  walk.open = walk.open.filter((entry, i) => {
    const origin = origins[i];
    if (origin?.kind === "kept") entry.at = origin.at + 1;
    else walk.found.set(entry.line, touch.by);
    return origin?.kind === "kept";
  });
  if (walk.open.length === 0) return { kind: "done", found: walk.found };
  walk.blob = touch.oldBlob;
  walk.lines = older;
  walk.next++;
  return undefined;
}

function bytesToLines(bytes: Buffer | undefined): Lines | undefined {
  return bytes ? linesOf(bytes) : undefined;
}

/** Finishes walks from where they stopped with git's patches of their remaining commits, as `walkFile` does. */
async function finishWithPatches(
  walks: Walk[],
  known: KnownVersion | undefined,
  readPatches: ReadPatches,
  end: (file: string, how: WalkEnd) => void,
): Promise<void> {
  const commits = new Map<string, string>();
  for (const walk of walks) for (const touch of walk.touches.slice(walk.next)) commits.set(touch.by.commit, touch.by.authoredAt);
  // In history's order, newest first: git's delta cache then serves each tree from the one before
  // (in the order walks listed them, the same patches took three times as long).
  const ordered = [...commits].sort((a, b) => (a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0)).map(([commit]) => commit);
  const history = await readPatches(
    ordered,
    walks.map((w) => w.file),
  ).catch(() => undefined);
  for (const walk of walks) {
    if (!history) {
      end(walk.file, { kind: "broken" });
      continue;
    }
    const lineOf = new Map(walk.open.map((entry) => [entry.at, entry.line]));
    const rest = walkFile(walk.file, { lines: [...lineOf.keys()], blob: walk.blob }, walk.touches.slice(walk.next), history.hunks, known);
    if (rest.kind === "broken") {
      end(walk.file, rest);
      continue;
    }
    for (const [at, by] of rest.found) walk.found.set(lineOf.get(at) as number, by);
    if (rest.kind === "done") end(walk.file, { ...rest, found: walk.found });
    else end(walk.file, { ...rest, found: walk.found, open: rest.open.map((at) => lineOf.get(at) as number) });
  }
}
