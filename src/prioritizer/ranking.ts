import type { FindingSignals } from "../scanners/types.js";
import type { FindingKind } from "../store/schema.js";
import { type OutcomeFactor, type OutcomeRecord, outcomeFactors, pathArea } from "./outcomes.js";
import { type PathClass, type PathPolicy, pathClassifier } from "./paths.js";
import { byLocation, byRank, type Row, top } from "./rows.js";
import { AGE_CAP_DAYS, parseTime, type ScorePart, tally } from "./score.js";
import { normaliseText } from "./text.js";
import { WEIGHTS } from "./weights.js";

/** Options of one ranking; all optional, so `rankFindings(findings, now)` still ranks plainly. */
export interface RankOptions extends PathPolicy {
  /** The repository's past bot tasks, for outcome feedback (`outcomeFactors`). */
  outcomes?: readonly OutcomeRecord[];
  /** Group findings with the same kind and normalised text into one row. Default true. */
  group?: boolean;
}

/** The findings one backlog row stands for. */
export interface BacklogGroup<T> {
  /** `kind`, path class and normalised text (or the fingerprint, for kinds that never group). */
  key: string;
  count: number;
  /** The first `MAX_LOCATIONS` members in location order (path, line, issue number). */
  locations: T[];
  /** Every member's fingerprint, representative first: a dismiss covers them all. */
  fingerprints: string[];
}

/** Locations listed per row. */
export const MAX_LOCATIONS = 5;

const CLASSES: readonly PathClass["class"][] = ["first_party", "vendored", "generated", "excluded"];

/**
 * Where a finding's group lives: one slot per grouped kind and path class, or -1 for a kind never
 * grouped. Issues are not grouped by text: two issues with one title are two conversations, and a
 * row must link to one thing a tick can start work on.
 */
function familyIndex(kind: FindingKind, pathClass: PathClass): number {
  const k = kind === "todo" ? 0 : kind === "failing_check" ? 1 : -1;
  return k < 0 ? -1 : k * CLASSES.length + CLASSES.indexOf(pathClass.class);
}
/** Family slots per scope: two grouped kinds times the path classes. */
const FAMILIES = 2 * CLASSES.length;
const FIRST_PARTY: PathClass = { class: "first_party" };
const DAY_MS = 86_400_000;

function repeatedPoints(count: number): number {
  return Math.min(WEIGHTS.repeated.max, Math.round(Math.log2(count) * WEIGHTS.repeated.perDoubling));
}

/**
 * One ranking in progress: `add` each finding, then `order` once; `explain` and `group` build a
 * row's words and group only when a caller reads them (most rows are never shown). Pure.
 */
export class Ranking<T> {
  private readonly at: number;
  private readonly oldest: number;
  private readonly classify: (path: string) => PathClass;
  private readonly outcomeOf: ((kind: FindingKind, path?: string | null) => OutcomeFactor | undefined) | undefined;
  private readonly grouping: boolean;
  /**
   * Per scope (repository) and grouped kind and path class (`familyIndex`), first row by normalised
   * text: no key strings built per finding. Text never groups across repositories: a row links to
   * one repository's code.
   */
  private readonly families = new Map<number, Map<string, Row<T>>>();
  /** Outcome factors per kind and path area (the area's substring, not a joined key). */
  private readonly outcomes = new Map<string, Map<string | undefined, OutcomeFactor | undefined>>();
  private readonly rows: Row<T>[] = [];
  private readonly reread: ((item: T) => FindingSignals) | undefined;

  /**
   * @param reread when given, a row's parsed signals are dropped once it is scored and read again
   *   from its item when the row is explained or shown (`rankBacklog` and its kin): 100,000
   *   parsed objects not kept, at one more parse per shown row.
   */
  constructor(now: Date, options: RankOptions = {}, reread?: (item: T) => FindingSignals) {
    this.reread = reread;
    this.at = now.getTime();
    this.oldest = this.at - (AGE_CAP_DAYS + 1) * DAY_MS;
    this.classify = pathClassifier(options);
    this.outcomeOf = options.outcomes?.length ? outcomeFactors(options.outcomes) : undefined;
    this.grouping = options.group !== false;
  }

  /**
   * Scores one finding and files it into its group; generated or excluded paths are left out.
   * `scope` is the finding's repository: the same text groups only within one (default 0).
   */
  add(
    item: T,
    kind: FindingKind,
    fingerprint: string,
    title: string,
    signals: FindingSignals,
    firstSeenAt: string,
    path: string | null | undefined,
    line: number | null | undefined,
    issueNumber: number | null | undefined,
    scope = 0,
  ): void {
    const pathClass = path ? this.classify(path) : FIRST_PARTY;
    if (pathClass.class !== "first_party" && pathClass.skip) return;
    const since = parseTime(signals.authoredAt ?? signals.createdAt ?? firstSeenAt);
    const tie = Number.isNaN(since) ? Number.POSITIVE_INFINITY : Math.max(since, this.oldest);
    const outcome = this.outcomeOf ? this.outcome(kind, path) : undefined;
    const row: Row<T> = {
      item,
      kind,
      fingerprint,
      signals,
      path,
      line,
      issueNumber,
      score: 0,
      since,
      tie,
      pathClass,
      outcome,
      text: undefined,
      members: undefined,
    };
    row.score = tally(row as Row<T> & { signals: FindingSignals }, this.at - since, row);
    if (this.reread) row.signals = undefined;
    const family = this.grouping ? familyIndex(kind, pathClass) : -1;
    if (family < 0) {
      this.rows.push(row);
      return;
    }
    const slot = scope * FAMILIES + family;
    let byText = this.families.get(slot);
    if (!byText) {
      byText = new Map();
      this.families.set(slot, byText);
    }
    const text = normaliseText(title);
    row.text = text;
    const first = byText.get(text);
    if (!first) {
      byText.set(text, row);
      this.rows.push(row);
    } else if (first.members) first.members.push(row);
    else first.members = [first, row];
  }

  private outcome(kind: FindingKind, path: string | null | undefined): OutcomeFactor | undefined {
    let byArea = this.outcomes.get(kind);
    if (!byArea) {
      byArea = new Map();
      this.outcomes.set(kind, byArea);
    }
    const area = pathArea(path);
    if (byArea.has(area)) return byArea.get(area);
    const factor = this.outcomeOf?.(kind, path);
    byArea.set(area, factor);
    return factor;
  }

  /**
   * The backlog rows in rank order (each group once, as its best member), or with `limit` only
   * the first `limit` of them, chosen without sorting the rest. Call once.
   */
  order(limit = Number.POSITIVE_INFINITY): { rows: Row<T>[]; total: number } {
    const rows = this.rows;
    this.families.clear(); // complete: only the rows hold their members now, so a streaming caller can let them go
    for (let i = 0; i < rows.length; i++) {
      const members = (rows[i] as Row<T>).members;
      if (!members) continue;
      let best = members[0] as Row<T>;
      for (let m = 1; m < members.length; m++) if (byRank(members[m] as Row<T>, best) < 0) best = members[m] as Row<T>;
      (rows[i] as Row<T>).members = undefined;
      best.members = members;
      best.score += repeatedPoints(members.length);
      rows[i] = best;
    }
    if (limit >= rows.length) return { rows: rows.sort(byRank), total: rows.length };
    return { rows: top(rows, limit), total: rows.length };
  }

  /** The parsed signals of `row`. */
  signalsOf(row: Row<T>): FindingSignals {
    return row.signals ?? this.reread?.(row.item) ?? {};
  }

  /** The parts of `row`'s score, in words; they sum to `row.score`. `signals` when the caller has them parsed already. */
  explain(row: Row<T>, signals = this.signalsOf(row)): ScorePart[] {
    const parts: ScorePart[] = [];
    tally({ kind: row.kind, signals }, this.at - row.since, row, parts);
    const members = row.members;
    if (members) {
      const files = new Set(members.map((m) => m.path)).size;
      const reason = `same text ×${members.length}${files > 1 ? ` in ${files} files` : ""}`;
      parts.push({ signal: "repeated", points: repeatedPoints(members.length), reason });
    }
    return parts;
  }

  /** The group `row` stands for, its locations made by `location` (called for at most `MAX_LOCATIONS` members). */
  group<L>(row: Row<T>, location: (member: Row<T>) => L): BacklogGroup<L> {
    const key = `${row.kind}\0${row.pathClass.class}\0${row.text ?? `#${row.fingerprint}`}`;
    const members = row.members;
    if (!members) return { key, count: 1, locations: [location(row)], fingerprints: [row.fingerprint] };
    const ranked = [...members].sort(byRank);
    return {
      key,
      count: members.length,
      // Sorted from rank order, so members at one location keep their rank order.
      locations: [...ranked].sort(byLocation).slice(0, MAX_LOCATIONS).map(location),
      fingerprints: ranked.map((m) => m.fingerprint),
    };
  }
}
