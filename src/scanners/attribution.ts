import { type BoundaryChange, changesSinceHorizon, splitByHunks } from "./attribution-boundary.js";
import { merge, replay } from "./attribution-replay.js";
import { blameQueue } from "./blame.js";
import type { BlameTarget, FileHistory, KnownVersion, LineAuthor, LineAuthors } from "./blame-history.js";
import type { GitSource, RepositoryShape } from "./git-source.js";

/**
 * What attribution cost and how it ended, for the scan's record. Counts are files or lines as named.
 * A shallow or partial clone never fails the scan: what it cannot attribute is counted here.
 */
export interface AttributionReport {
  /** File versions whose TODOs and authors came from the cache: not read, not blamed. */
  cachedFiles: number;
  /** Files attributed by replaying `git log` (commits since the last scan, or within the horizon). */
  replayedFiles: number;
  /** Files that needed `git blame` (a merge changed them, a rename, uncommitted changes). */
  blamedFiles: number;
  /** `git log` and `git blame` processes run. */
  historyProcesses: number;
  /** Lines older than the horizon: `authoredAt` is the horizon (same score), author resolved if shown. */
  beforeHorizonLines: number;
  /** Lines attributed to a shallow clone's boundary commit: their true commit is older and not fetched. */
  shallowBoundaryLines: number;
  /** Committed lines left unattributed because the clone lacks the blobs to diff (partial clone). */
  unattributedLines: number;
  shallow: boolean;
  partial: boolean;
  /** ISO time the history walk stopped at; absent when the ranking has no age cap. */
  horizon?: string;
}

/** A report with nothing counted yet. */
export function emptyReport(shape: RepositoryShape, horizon?: Date): AttributionReport {
  return {
    cachedFiles: 0,
    replayedFiles: 0,
    blamedFiles: 0,
    historyProcesses: 0,
    beforeHorizonLines: 0,
    shallowBoundaryLines: 0,
    unattributedLines: 0,
    shallow: shape.shallow.size > 0,
    partial: shape.partial,
    ...(horizon && { horizon: horizon.toISOString() }),
  };
}

/** What `attributeLines` knows besides the targets. */
export interface AttributionContext {
  /** The commit whose history is walked (the scanned commit, or HEAD for a work tree). */
  head: string;
  /** Walk no further back than this (`attributionHorizon`). */
  horizon?: Date;
  /** The commit of the last scan: only the commits since it are replayed first. */
  base?: string;
  /** Attribution of earlier versions, from the cache. */
  known: KnownVersion;
  /** Work-tree paths with uncommitted changes: only `git blame` knows which lines are committed. */
  dirty: Set<string>;
  shape: RepositoryShape;
  report: AttributionReport;
  /**
   * History started early (`readHistory` of a superset of the paths, while git grep ran), for the
   * window with this `base` (undefined: the horizon window).
   */
  prefetched?: { base?: string; history: Promise<FileHistory | undefined> };
  /** `boundaryCommit`, when started early. */
  boundary?: Promise<string | undefined>;
  /** The touches (`git log --raw`) of every file within the horizon, when started early. */
  touches?: Promise<FileHistory | undefined>;
}

/**
 * Attributes what one diff from the horizon's boundary settles (`changesSinceHorizon`): files
 * unchanged since the boundary, and lines no hunk touched, are older than the horizon. When the
 * diff names few changed files, each file with touched lines goes to `blame` the moment its patch
 * ends, so blaming overlaps with the rest of the diff. Returns the lines (`touched`) and files
 * (`whole`: added, renamed or retyped since) still to attribute, or `undefined` when there is no
 * horizon, no boundary (all history is newer), or git failed.
 */
async function sinceBoundary(
  source: GitSource,
  pending: Map<string, BlameTarget>,
  ctx: AttributionContext,
  authors: LineAuthors,
  blame: (file: string, target: BlameTarget) => void,
): Promise<{ touched: Map<string, number[]>; whole: string[] } | undefined> {
  if (!ctx.horizon || pending.size === 0) return undefined;
  const rawOnly = ctx.shape.partial;
  const bound: LineAuthor = { commit: "", author: "", authoredAt: ctx.horizon.toISOString(), before: true };
  const touched = new Map<string, number[]>();
  const whole: string[] = [];
  let early = 0;
  const settle = (file: string, change: BoundaryChange | undefined, changedInDiff: number): void => {
    const target = pending.get(file);
    if (!target) return;
    const split = !change
      ? { untouched: target.lines, touched: [] }
      : change.status === "M" && !rawOnly && change.hunks.length > 0 // no hunks: a mode change or a binary file
        ? splitByHunks(target.lines, change.hunks)
        : undefined;
    if (split) {
      authors.set(file, new Map(split.untouched.map((line) => [line, bound])));
      ctx.report.beforeHorizonLines += split.untouched.length;
    }
    const open = split ? split.touched : target.lines;
    if (open.length === 0) return;
    if (!rawOnly && changedInDiff <= EARLY_BLAME_CHANGED && early < BLAME_DIRECTLY) {
      early++;
      blame(file, { lines: open, blob: target.blob });
    } else if (split) touched.set(file, open);
    else whole.push(file);
  };
  ctx.report.historyProcesses += ctx.boundary ? 1 : 2;
  const diff = await changesSinceHorizon(source, ctx.head, ctx.horizon, [...pending.keys()], {
    rawOnly,
    boundary: ctx.boundary,
    onFile: (file, change, changed) => settle(file, change, changed),
  }).catch(() => undefined);
  if (!diff) return undefined;
  for (const file of pending.keys()) if (!diff.changes.has(file)) settle(file, undefined, 0);
  return { touched, whole };
}

/** Up to this many files left after the boundary diff are blamed directly rather than replayed. */
const BLAME_DIRECTLY = 8;
/**
 * A boundary diff that names at most this many changed files has its files with touched lines
 * blamed as their patches end (redis: 20 changed files, 6 to blame). More (every file changed
 * within the horizon, as in the built bench repository) most likely leaves more than
 * `BLAME_DIRECTLY` files to attribute, which one replay does for all.
 */
const EARLY_BLAME_CHANGED = 4 * BLAME_DIRECTLY;

/** Marks lines attributed to a shallow clone's boundary commit: all that is known is that they are at least that old. */
function markShallow(authors: Map<number, LineAuthor>, ctx: AttributionContext): void {
  if (ctx.shape.shallow.size === 0) return;
  for (const [line, by] of authors) {
    if (!ctx.shape.shallow.has(by.commit) || by.before) continue;
    authors.set(line, { ...by, before: true });
    ctx.report.shallowBoundaryLines++;
  }
}

/**
 * Attributes the given lines of each file (path -> lines and blob id) to the commit and author
 * that last changed them, as `git blame` would for the ranking's purposes, cheapest first:
 * 1. with a `base` (the last scan), replay only the commits since it, ending on versions the cache knows;
 * 2. replay the history within the horizon (no `--topo-order`): lines no commit in it changed are
 *    older than the horizon and get `{ before: true, authoredAt: horizon }`, which scores the same;
 * 3. `git blame --since=<horizon>` for what no replay could follow (merges, renames) and for
 *    work-tree files with uncommitted changes, the core count at a time.
 * In a partial clone only touches are read (no old blobs are fetched): files changed within the
 * horizon are left unattributed and counted. Never throws: git failures leave lines absent.
 */
export async function attributeLines(source: GitSource, targets: Map<string, BlameTarget>, ctx: AttributionContext): Promise<LineAuthors> {
  const authors: LineAuthors = new Map();
  const blamer = blameQueue(source, { since: ctx.horizon, onSpawn: () => ctx.report.historyProcesses++ });
  let pending = new Map<string, BlameTarget>();
  for (const [file, target] of targets) {
    if (ctx.dirty.has(file))
      blamer.add(file, target); // only `git blame` knows which lines are committed
    else pending.set(file, target);
  }
  const rawOnly = ctx.shape.partial;
  if (ctx.base && ctx.base !== ctx.head && pending.size > 0) {
    const first = await replay(source, pending, { base: ctx.base, since: ctx.horizon, rawOnly }, ctx, authors);
    // Lines the new commits did not change, on a version the cache does not know: walk the horizon.
    pending = new Map([...first.exhausted.keys(), ...first.broken].map((f) => [f, targets.get(f) as BlameTarget]));
  }
  const toBlame = new Map<string, BlameTarget>();
  const recent = await sinceBoundary(source, pending, ctx, authors, (file, target) => blamer.add(file, target));
  if (recent) {
    // Only lines the one diff says changed since the boundary are left. A few files: `git blame`
    // stops as soon as it has their lines. Many: one replay of the horizon's commits beats a
    // process per file (measured: 82 files took 3.9 s by blame on the built bench repository).
    const many = blamer.size + recent.touched.size + recent.whole.length > BLAME_DIRECTLY;
    pending = new Map();
    for (const [file, lines] of recent.touched) (many ? pending : toBlame).set(file, { lines, blob: targets.get(file)?.blob });
    for (const file of recent.whole) (many ? pending : toBlame).set(file, targets.get(file) as BlameTarget);
  }
  // A file the replay by blobs cannot explain goes to `git blame` at once, beside the other walks.
  const blamedEarly = new Set<string>();
  const blameNow = (file: string): void => {
    blamedEarly.add(file);
    blamer.add(file, targets.get(file) as BlameTarget);
  };
  const windowed = await replay(source, pending, { since: ctx.horizon, rawOnly }, ctx, authors, blameNow);
  for (const [file, end] of windowed.exhausted) {
    if (!ctx.horizon) {
      windowed.broken.push(file); // the whole history was read and did not explain the file
      continue;
    }
    const bound: LineAuthor = { commit: "", author: "", authoredAt: ctx.horizon.toISOString(), before: true };
    for (const line of end.open) end.found.set(line, bound);
    ctx.report.beforeHorizonLines += end.open.length;
    merge(authors, file, end.found);
  }
  for (const file of windowed.broken) if (!blamedEarly.has(file)) toBlame.set(file, targets.get(file) as BlameTarget);
  let unattributed = 0;
  for (const [file, target] of toBlame) {
    if (rawOnly && !ctx.dirty.has(file)) {
      ctx.report.unattributedLines += target.lines.length;
      unattributed++;
    } else blamer.add(file, target);
  }
  ctx.report.blamedFiles += blamer.size;
  ctx.report.replayedFiles += targets.size - blamer.size - unattributed;
  const blamed = await blamer.done();
  for (const [file, lines] of blamed) {
    merge(authors, file, lines);
    for (const by of lines.values()) if (by.before && !by.commit) ctx.report.beforeHorizonLines++;
  }
  for (const lines of authors.values()) markShallow(lines, ctx);
  return authors;
}
