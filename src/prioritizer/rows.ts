import type { FindingSignals } from "../scanners/types.js";
import type { FindingKind } from "../store/schema.js";
import type { OutcomeFactor } from "./outcomes.js";
import type { PathClass } from "./paths.js";

/**
 * One scored finding: the ranking's only object per finding. `item` is the caller's object, the
 * other fields what the ranking reads of it. A group is represented by its best member, which
 * holds the `members` (itself included); every other row has none.
 */
export interface Row<T> {
  item: T;
  kind: FindingKind;
  fingerprint: string;
  /** The parsed signals, or undefined once scored when the ranking re-reads them from `item` (`Ranking`'s `reread`). */
  signals: FindingSignals | undefined;
  path: string | null | undefined;
  line: number | null | undefined;
  issueNumber: number | null | undefined;
  /** Own score; a group's representative adds the `repeated` part once the group is complete. */
  score: number;
  /** Epoch ms the age counts from (NaN when unknown). */
  since: number;
  /** `since` as ties see it: no older than the age cap, unknown last. */
  tie: number;
  pathClass: PathClass;
  outcome: OutcomeFactor | undefined;
  /** The normalised title of a grouped kind; undefined for a row that never groups (its key uses the fingerprint). */
  text: string | undefined;
  members: Row<T>[] | undefined;
}

/** Nulls last; `undefined` and `null` differ (as they always have: an item's missing path is not a stored null). */
function cmp(a: string | number | null | undefined, b: string | number | null | undefined): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return a < b ? -1 : 1;
}

/** Location order: path, line, issue number, fingerprint. The path, which decides nearly every tie, is compared inline. */
export function byLocation<T>(a: Row<T>, b: Row<T>): number {
  const ap = a.path;
  const bp = b.path;
  if (ap !== bp) {
    if (ap === null || ap === undefined) return 1;
    if (bp === null || bp === undefined) return -1;
    return ap < bp ? -1 : 1;
  }
  return cmp(a.line, b.line) || cmp(a.issueNumber, b.issueNumber) || cmp(a.fingerprint, b.fingerprint);
}

/**
 * Rank order: higher score first; then older (unknown ages last), counting ages only up to the
 * age cap — beyond it the ranking cannot see age, so neither may the tie-break (a scan that
 * attributes old lines only to the cap then ranks exactly as full `git blame` would); then
 * location. A total order.
 */
export function byRank<T>(a: Row<T>, b: Row<T>): number {
  return b.score - a.score || a.tie - b.tie || byLocation(a, b);
}

/**
 * The `limit` best rows in rank order, by a bounded max-heap (the worst kept row on top): about
 * n·log(limit) comparisons instead of a full sort's n·log(n). Equal to `rows.sort(byRank).slice(0, limit)`
 * because `byRank` is a total order.
 */
export function top<T>(rows: readonly Row<T>[], limit: number): Row<T>[] {
  const heap: Row<T>[] = [];
  if (limit <= 0) return heap;
  const down = (from: number) => {
    let i = from;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < heap.length && byRank(heap[l] as Row<T>, heap[worst] as Row<T>) > 0) worst = l;
      if (r < heap.length && byRank(heap[r] as Row<T>, heap[worst] as Row<T>) > 0) worst = r;
      if (worst === i) return;
      [heap[i], heap[worst]] = [heap[worst] as Row<T>, heap[i] as Row<T>];
      i = worst;
    }
  };
  for (const row of rows) {
    if (heap.length < limit) {
      heap.push(row);
      let i = heap.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (byRank(heap[i] as Row<T>, heap[parent] as Row<T>) <= 0) break;
        [heap[i], heap[parent]] = [heap[parent] as Row<T>, heap[i] as Row<T>];
        i = parent;
      }
    } else if (byRank(row, heap[0] as Row<T>) < 0) {
      heap[0] = row;
      down(0);
    }
  }
  return heap.sort(byRank);
}
