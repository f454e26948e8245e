import type { AttributionContext } from "./attribution.js";
import { type BlameTarget, type LineAuthor, type LineAuthors, trulyAdded, type WalkEnd, walkFile } from "./blame-history.js";
import { blobReader } from "./blob-reader.js";
import { walkByBlobs } from "./blob-walk.js";
import type { GitSource } from "./git-source.js";
import { type HistoryWindow, readCommitPatches, readHistory } from "./history-log.js";

/**
 * Replays one window of history for `targets` (attribution.ts's second and third steps): the
 * horizon's window by blobs (blob-walk.ts), a window since the last scan from its `git log -p`
 * (short, so read whole). Adds what it attributes to `authors`; returns the files whose lines are
 * older than the window (`exhausted`) and those it could not follow (`broken`: merges, renames),
 * each of which is also passed to `onBroken` as soon as it is known. Never throws.
 */
export async function replay(
  source: GitSource,
  targets: Map<string, BlameTarget>,
  window: HistoryWindow,
  ctx: AttributionContext,
  authors: LineAuthors,
  onBroken?: (file: string) => void,
): Promise<{ exhausted: Map<string, { found: Map<number, LineAuthor>; open: number[] }>; broken: string[] }> {
  const exhausted = new Map<string, { found: Map<number, LineAuthor>; open: number[] }>();
  const broken: string[] = [];
  if (targets.size === 0) return { exhausted, broken };
  const paths = [...targets.keys()];
  const early = ctx.prefetched?.base === window.base ? await ctx.prefetched?.history : undefined;
  // The horizon's window is replayed from blobs (blob-walk.ts): touches only from `git log`, then
  // just the versions that explain the lines; a window from the last scan is short, read whole.
  const byBlobs = !early && !window.base && !window.rawOnly;
  if (!early && !(byBlobs && ctx.touches)) ctx.report.historyProcesses += window.rawOnly || byBlobs || paths.length <= 50 ? 1 : 2;
  let ends: Map<string, WalkEnd>;
  try {
    if (byBlobs) {
      const touches = (await ctx.touches) ?? (await readHistory(source, ctx.head, paths, { ...window, rawOnly: true }));
      const reader = blobReader(source, () => ctx.report.historyProcesses++);
      const patches = (commits: string[], files: string[]) => {
        ctx.report.historyProcesses++;
        return readCommitPatches(source, commits, files);
      };
      ends = await walkByBlobs(reader, targets, touches.touches, ctx.known, patches, onBroken).finally(() => reader.close());
    } else {
      const history = early ?? (await readHistory(source, ctx.head, paths, window));
      ends = new Map(
        [...targets].map(([file, target]) => [file, walkFile(file, target, history.touches.get(file) ?? [], history.hunks, ctx.known)]),
      );
    }
  } catch {
    return { exhausted, broken: paths }; // blame can still answer what the replay could not
  }
  const created = new Map<string, string>();
  const done = new Map<string, Map<number, LineAuthor>>();
  for (const [file, end] of ends) {
    if (end.kind === "broken") broken.push(file);
    else if (end.kind === "exhausted") exhausted.set(file, end);
    else {
      done.set(file, end.found);
      if (end.createdBy) created.set(file, end.createdBy);
    }
  }
  // In a partial clone rename detection would fetch old blobs one by one: creations are taken as they are.
  const added = ctx.shape.partial ? new Set(created.keys()) : await trulyAdded(source, created).catch(() => new Set<string>());
  for (const [file, found] of done) {
    if (created.has(file) && !added.has(file)) broken.push(file);
    else merge(authors, file, found);
  }
  return { exhausted, broken };
}

/** Adds `lines` to what is known of `file`. */
export function merge(authors: LineAuthors, file: string, lines: Map<number, LineAuthor>): void {
  const known = authors.get(file);
  if (!known) authors.set(file, lines);
  else for (const [line, by] of lines) known.set(line, by);
}
