import type { LineChange, Lines } from "./line-trace.js";

/*
 * When one line of a changed stretch of a file is unchanged itself (a commit edited the lines
 * above and below it), whether git's diff keeps it is the question a plain comparison cannot
 * answer. It can when every diff of minimal length must keep it, and git's is one of those:
 * - The line's text occurs once in each version (at `newIndex` and `oldIndex`), so only that
 *   pair can match, and sliding a changed group (`xdl_change_compact`) can never take it.
 * - No other pair of equal lines of the two changed stretches crosses it (one above it in one
 *   version, below it in the other). Then any common subsequence without the pair can take it
 *   too, so every longest one, i.e. every minimal diff, keeps it.
 * - xdiff's myers is exact while the edit cost stays under `XDL_HEUR_MIN_COST` (256): above it,
 *   heuristics may return a longer diff. Before the algorithm runs, `xdl_cleanup_records` may
 *   drop lines that occur at least `xdl_bogosqrt(records)` times in the other version, and
 *   each dropped line can raise the cost by one; so the minimal cost plus those lines must stay
 *   under 256.
 */

/** xdiff's `XDL_HEUR_MIN_COST`: up to this edit cost its myers returns a minimal diff. */
const EXACT_COST = 256;

/** xdiff's `xdl_bogosqrt`: a power of two near the square root, the count from which a line may be dropped. */
function bogosqrt(n: number): number {
  let i = 1;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 4)) i *= 2;
  return i;
}

/** The lines of both versions as small integers, equal text for equal id. */
function lineIds(older: Lines, newer: Lines): { old: Int32Array; new: Int32Array; count: number } {
  const ids = new Map<string, number>();
  const of = (lines: Lines): Int32Array => {
    const out = new Int32Array(lines.ends.length);
    let start = 0;
    for (let i = 0; i < lines.ends.length; i++) {
      const end = lines.ends[i] as number;
      const text = lines.bytes.toString("latin1", start, end);
      let id = ids.get(text);
      if (id === undefined) {
        id = ids.size;
        ids.set(text, id);
      }
      out[i] = id;
      start = end;
    }
    return out;
  };
  const old = of(older);
  return { old, new: of(newer), count: ids.size };
}

/**
 * The minimal number of lines added plus removed to turn `a` into `b` (Myers' greedy search),
 * or `undefined` when it exceeds `limit`. Time O((a + b) · limit).
 */
function editCost(a: Int32Array, b: Int32Array, limit: number): number | undefined {
  const n = a.length;
  const m = b.length;
  const offset = limit + 1;
  const v = new Int32Array(2 * limit + 3);
  for (let d = 0; d <= limit; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number))
          ? (v[offset + k + 1] as number)
          : (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return d;
    }
  }
  return undefined;
}

/** What every question about one change shares: computed once, on the first question. */
interface Analysis {
  ids: { old: Int32Array; new: Int32Array; count: number };
  counts: { old: Int32Array; new: Int32Array };
  /** First and last index of each text in the changed stretches (-1: absent). */
  old: { first: Int32Array; last: Int32Array };
  new: { first: Int32Array; last: Int32Array };
  /** Whether xdiff's search over this change is exact (cost plus droppable lines under 256); computed when first needed. */
  exact?: boolean;
}

const analyses = new WeakMap<LineChange, Analysis>();

function analyse(change: LineChange): Analysis {
  const known = analyses.get(change);
  if (known) return known;
  const { older, newer, prefix, suffix } = change;
  const ids = lineIds(older, newer);
  const counts = { old: new Int32Array(ids.count), new: new Int32Array(ids.count) };
  for (const id of ids.old) counts.old[id] = (counts.old[id] as number) + 1;
  for (const id of ids.new) counts.new[id] = (counts.new[id] as number) + 1;
  const span = (list: Int32Array, from: number, to: number) => {
    const first = new Int32Array(ids.count).fill(-1);
    const last = new Int32Array(ids.count).fill(-1);
    for (let i = from; i < to; i++) {
      const id = list[i] as number;
      if (first[id] === -1) first[id] = i;
      last[id] = i;
    }
    return { first, last };
  };
  const analysis: Analysis = {
    ids,
    counts,
    old: span(ids.old, prefix, older.ends.length - suffix),
    new: span(ids.new, prefix, newer.ends.length - suffix),
  };
  analyses.set(change, analysis);
  return analysis;
}

/** Whether xdiff's myers over the changed stretches returns a minimal diff (see above). */
function searchIsExact(change: LineChange, a: Analysis): boolean {
  const { older, newer, prefix, suffix } = change;
  const [oldEnd, newEnd] = [older.ends.length - suffix, newer.ends.length - suffix];
  // Lines xdiff may drop before its search: each can add one to the cost it searches.
  let droppable = 0;
  // xdiff caps the count at XDL_MAX_EQLIMIT (1024).
  const [oldLimit, newLimit] = [Math.min(bogosqrt(older.ends.length), 1024), Math.min(bogosqrt(newer.ends.length), 1024)];
  for (let i = prefix; i < oldEnd; i++) if ((a.counts.new[a.ids.old[i] as number] as number) >= oldLimit) droppable++;
  for (let i = prefix; i < newEnd; i++) if ((a.counts.old[a.ids.new[i] as number] as number) >= newLimit) droppable++;
  if (droppable >= EXACT_COST) return false;
  return editCost(a.ids.old.subarray(prefix, oldEnd), a.ids.new.subarray(prefix, newEnd), EXACT_COST - 1 - droppable) !== undefined;
}

/**
 * Whether git's diff of `change` keeps line `newIndex` of the newer version as line `oldIndex`
 * of the older (both 0-based, both inside the changed stretch), for certain (see above). False
 * means only git's diff can tell.
 */
export function keptByEveryMinimalDiff(change: LineChange, newIndex: number, oldIndex: number): boolean {
  const a = analyse(change);
  const target = a.ids.new[newIndex] as number;
  if (a.counts.old[target] !== 1 || a.counts.new[target] !== 1 || a.ids.old[oldIndex] !== target) return false;
  for (let id = 0; id < a.ids.count; id++) {
    if (id === target || a.old.first[id] === -1 || a.new.first[id] === -1) continue;
    const crosses =
      ((a.new.first[id] as number) < newIndex && (a.old.last[id] as number) > oldIndex) ||
      ((a.new.last[id] as number) > newIndex && (a.old.first[id] as number) < oldIndex);
    if (crosses) return false;
  }
  a.exact ??= searchIsExact(change, a);
  return a.exact;
}
