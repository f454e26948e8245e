import { type OutcomeFactor, type OutcomeRecord, outcomeFactors } from "./outcomes.js";
import { type PathClass, type PathPolicy, pathClassifier } from "./paths.js";
import { AGE_CAP_DAYS, type RankInput, type ScorePart, sinceMs, tally } from "./score.js";
import { WEIGHTS } from "./weights.js";

export { type RankInput, type ScorePart, scoreFinding } from "./score.js";

/** Options of one ranking; all optional, so `rankFindings(findings, now)` still ranks plainly. */
export interface RankOptions extends PathPolicy {
  /** The repository's past bot tasks, for outcome feedback (`outcomeFactors`). */
  outcomes?: readonly OutcomeRecord[];
  /** Group findings with the same kind and normalised text into one row. Default true. */
  group?: boolean;
}

/** The findings one backlog row stands for. */
export interface BacklogGroup<T extends RankInput> {
  /** `kind`, path class and normalised text (or the fingerprint, for kinds that never group). */
  key: string;
  count: number;
  /** The first `MAX_LOCATIONS` members in location order (path, line, issue number). */
  locations: T[];
  /** Every member's fingerprint, representative first: a dismiss covers them all. */
  fingerprints: string[];
}

/** A backlog row: its representative finding, its place, the explanation of its score, and its group. */
export type Ranked<T extends RankInput> = T & { rank: number; score: number; breakdown: ScorePart[]; group: BacklogGroup<T> };

/** Locations listed per row. */
export const MAX_LOCATIONS = 5;
/**
 * Kinds grouped by text. Issues are not: two issues with one title are two conversations, and a
 * row must link to one thing a tick can start work on.
 */
const GROUPED_KINDS = new Set(["todo", "failing_check"]);

/**
 * One scored finding, and while ranking also the row of its group: `members` is set once a second
 * finding joins (singletons, most rows, allocate no array), and the head fields are then replaced
 * by the group's best member.
 */
interface Row<T> {
  item: T;
  score: number;
  since: number;
  pathClass: PathClass;
  outcome: OutcomeFactor | undefined;
  members: Row<T>[] | undefined;
  /** The group key's text part: the normalised title, or `#fingerprint` for a kind that never groups. */
  text: string;
}

/** Lower-cased, whitespace collapsed, trailing punctuation dropped: "Add test." and "add  test" are one text. */
export function normaliseText(text: string): string {
  return text
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/^[\s:>-]+|[\s.:;,!?…-]+$/g, "");
}

function cmp(a: string | number | null | undefined, b: string | number | null | undefined): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return a < b ? -1 : 1;
}

function byLocation(a: RankInput, b: RankInput): number {
  return cmp(a.path, b.path) || cmp(a.line, b.line) || cmp(a.issueNumber, b.issueNumber) || cmp(a.fingerprint, b.fingerprint);
}

/**
 * Higher score first; then older (NaN ages last), counting ages only up to the age cap — beyond it
 * the ranking cannot see age, so neither may the tie-break (a scan that attributes old lines only
 * to the cap then ranks exactly as full `git blame` would); then location. A total order.
 */
function byRank(oldest: number) {
  const tieAge = (since: number) => (Number.isNaN(since) ? Number.POSITIVE_INFINITY : Math.max(since, oldest));
  return <T extends RankInput>(a: Row<T>, b: Row<T>): number =>
    b.score - a.score || tieAge(a.since) - tieAge(b.since) || byLocation(a.item, b.item);
}

const FIRST_PARTY: PathClass = { class: "first_party" };

/**
 * Ranks findings into backlog rows (weights in weights.ts). Excluded paths, and generated (or, with
 * `vendored: "skip"`, vendored) code, are left out; findings of a grouped kind sharing normalised
 * text and path class become one row whose representative is its best member, plus a `repeated`
 * part. Ties are broken by age (older first), then location, then fingerprint.
 * Pure: no I/O, no clock (pass `now`). About 150 ms for 100,000 findings (bench/rank.ts).
 */
export function rankFindings<T extends RankInput>(findings: readonly T[], now: Date, options: RankOptions = {}): Ranked<T>[] {
  const classify = pathClassifier(options);
  const outcomeOf = outcomeFactors(options.outcomes ?? []);
  const grouping = options.group !== false;
  const at = now.getTime();
  const compare = byRank(at - (AGE_CAP_DAYS + 1) * 86_400_000);
  const rows: Row<T>[] = [];
  /** Group rows by kind and path class, then by normalised text: no key strings concatenated per finding. */
  const groups = new Map<string, Map<string, Row<T>>>();
  for (const item of findings) {
    const pathClass = item.path ? classify(item.path) : FIRST_PARTY;
    if (pathClass.class !== "first_party" && pathClass.skip) continue;
    const outcome = outcomeOf(item.kind, item.path);
    const since = sinceMs(item);
    const score = tally(item, at - since, { pathClass, outcome });
    if (!grouping || !GROUPED_KINDS.has(item.kind)) {
      rows.push({ item, score, since, pathClass, outcome, members: undefined, text: `#${item.fingerprint}` });
      continue;
    }
    const family = `${item.kind}\0${pathClass.class}`;
    let byText = groups.get(family);
    if (!byText) {
      byText = new Map();
      groups.set(family, byText);
    }
    const text = normaliseText(item.title);
    const row: Row<T> = { item, score, since, pathClass, outcome, members: undefined, text };
    const first = byText.get(text);
    if (!first) {
      byText.set(text, row);
      rows.push(row);
    } else if (first.members) first.members.push(row);
    else first.members = [{ ...first }, row];
  }
  for (const row of rows) {
    if (!row.members) continue;
    row.members.sort(compare);
    const head = row.members[0] as Row<T>;
    row.item = head.item;
    row.score = head.score + repeatedPoints(row.members.length);
    row.since = head.since;
    row.pathClass = head.pathClass;
    row.outcome = head.outcome;
  }
  rows.sort(compare);
  return rows.map((row, i) => {
    const { item, members } = row;
    const breakdown: ScorePart[] = [];
    tally(item, at - row.since, row, breakdown);
    let group: BacklogGroup<T>;
    if (members) {
      const files = new Set(members.map((m) => m.item.path)).size;
      const reason = `same text ×${members.length}${files > 1 ? ` in ${files} files` : ""}`;
      breakdown.push({ signal: "repeated", points: repeatedPoints(members.length), reason });
      group = {
        key: `${item.kind}\0${row.pathClass.class}\0${row.text}`,
        count: members.length,
        locations: members
          .map((m) => m.item)
          .sort(byLocation)
          .slice(0, MAX_LOCATIONS),
        fingerprints: members.map((m) => m.item.fingerprint),
      };
    } else {
      const key = `${item.kind}\0${row.pathClass.class}\0${row.text}`;
      group = { key, count: 1, locations: [item], fingerprints: [item.fingerprint] };
    }
    // Spread last: adding keys after a spread turns the copy into a slow dictionary object (3x here).
    return { rank: i + 1, score: row.score, breakdown, group, ...item };
  });
}

function repeatedPoints(count: number): number {
  return Math.min(WEIGHTS.repeated.max, Math.round(Math.log2(count) * WEIGHTS.repeated.perDoubling));
}
