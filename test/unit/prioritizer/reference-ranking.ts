/**
 * The ranking as it was before the speed rewrite of issues 9 and 14 (commit c07e9b9: rank.ts,
 * score.ts's `tally`/`sinceMs`, paths.ts's `pathClassifier`, index.ts's `rankBacklog`), kept
 * verbatim apart from names as the oracle of `same-as-reference.test.ts`: the rewrite must give
 * the same order, scores, breakdowns and groups. When the ranking changes on purpose, change this
 * copy in the same commit (or retire the comparison) and say so.
 */
import picomatch from "picomatch";
import { type OutcomeFactor, outcomeFactors } from "../../../src/prioritizer/outcomes.js";
import type { PathClass, PathPolicy } from "../../../src/prioritizer/paths.js";
import type { BacklogGroup, RankInput, RankOptions, ScorePart } from "../../../src/prioritizer/rank.js";
import { WEIGHTS } from "../../../src/prioritizer/weights.js";
import type { FindingSignals } from "../../../src/scanners/types.js";
import type { FindingRow } from "../../../src/store/schema.js";

type ScoreContext = { pathClass?: PathClass; outcome?: OutcomeFactor };
type Ranked<T extends RankInput> = T & { rank: number; score: number; breakdown: ScorePart[]; group: BacklogGroup<T> };
type BacklogItem = Omit<FindingRow, "signals"> & RankInput;

// ---- score.ts
const DAY_MS = 86_400_000;

const AGE_CAP_DAYS = Math.ceil(2 ** ((WEIGHTS.age.max - 0.5) / WEIGHTS.age.perDoubling) - 1);
function sinceMs(finding: RankInput): number {
  const s = finding.signals;
  return Date.parse(s.authoredAt ?? s.createdAt ?? finding.firstSeenAt);
}
function tally(finding: RankInput, ageMs: number, context: ScoreContext, parts?: ScorePart[]): number {
  const s = finding.signals;
  let score = WEIGHTS.kind[finding.kind];
  parts?.push({ signal: "kind", points: score, reason: `kind ${finding.kind}` });
  if (s.marker) {
    const points = WEIGHTS.marker[s.marker] ?? WEIGHTS.marker[s.marker.toUpperCase()] ?? WEIGHTS.marker.TODO ?? 0;
    score += points;
    parts?.push({ signal: "marker", points, reason: `marker ${s.marker}` });
  }
  const days = Math.max(0, ageMs / DAY_MS);
  if (Number.isFinite(days) && days >= 1) {
    const points = Math.min(WEIGHTS.age.max, Math.round(Math.log2(1 + days) * WEIGHTS.age.perDoubling));
    score += points;
    parts?.push({ signal: "age", points, reason: `${Math.floor(days)} days old` });
  }
  if (s.reactions) {
    const points = Math.min(WEIGHTS.reactions.max, s.reactions * WEIGHTS.reactions.each);
    score += points;
    parts?.push({ signal: "reactions", points, reason: `${s.reactions} reactions` });
  }
  if (s.comments) {
    const points = Math.min(WEIGHTS.comments.max, s.comments * WEIGHTS.comments.each);
    score += points;
    parts?.push({ signal: "comments", points, reason: `${s.comments} comments` });
  }
  if (s.labels) {
    for (const label of s.labels) {
      const points = WEIGHTS.labels[label.toLowerCase()];
      if (!points) continue;
      score += points;
      parts?.push({ signal: "label", points, reason: `label "${label}"` });
    }
  }
  if (s.flaky) {
    score += WEIGHTS.flaky;
    parts?.push({ signal: "flaky", points: WEIGHTS.flaky, reason: "failed and passed on the same commit (flaky)" });
  }
  if (context.outcome) {
    const points = Math.round(Math.max(0, score) * (context.outcome.factor - 1));
    if (points !== 0) {
      score += points;
      parts?.push({ signal: "outcomes", points, reason: context.outcome.reason });
    }
  }
  const cls = context.pathClass;
  if (cls && cls.class !== "first_party" && cls.class !== "excluded") {
    score += WEIGHTS.vendored;
    parts?.push({ signal: cls.class, points: WEIGHTS.vendored, reason: cls.reason });
  }
  return score;
}

// ---- paths.ts
const VENDORED_TREE = /(?:^|\/)(deps|third[-_]?party|vendors?|external|node_modules|bower_components)\//;
/**
 * Generated files, after Linguist's generated.rb: autotools output (`configure`, `config.guess`, ...),
 * minified files (`*.min.*`), lockfiles and protobuf output.
 */
const GENERATED_NAME =
  /^(?:configure|config\.guess|config\.sub|ltmain\.sh|aclocal\.m4|Makefile\.in|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb|Cargo\.lock|Gemfile\.lock|poetry\.lock|Pipfile\.lock|composer\.lock|go\.sum|.+\.lock|.+\.min\.[^.]+|.+\.pb\.(?:go|cc|h)|.+_pb2\.py)$/;

const FIRST_PARTY: PathClass = { class: "first_party" };
const EXCLUDED: PathClass = { class: "excluded", reason: "matches `exclude`", skip: true };

function globsRe(globs: readonly string[]): RegExp | undefined {
  if (globs.length === 0) return undefined;
  return new RegExp(globs.map((g) => picomatch.makeRe(g, { dot: true }).source).join("|"));
}
function compileAttribute(pattern: string): (path: string, name: string) => boolean {
  if (pattern.endsWith("/")) return () => false; // git: a directory pattern never matches the files inside it
  if (!pattern.includes("/")) {
    const re = picomatch.makeRe(pattern, { dot: true });
    return (_path, name) => re.test(name);
  }
  const re = picomatch.makeRe(pattern.replace(/^\//, ""), { dot: true });
  return (path) => re.test(path);
}
function pathClassifier(policy: PathPolicy = {}): (path: string) => PathClass {
  const exclude = globsRe(policy.exclude ?? []);
  const include = globsRe(policy.include ?? []);
  const rules = (policy.attributes ?? []).map((r) => ({ ...r, match: compileAttribute(r.pattern) }));
  const skipVendored = policy.vendored === "skip";
  const skipGenerated = policy.generated !== "demote";
  const cache = new Map<string, PathClass>();
  const classify = (path: string): PathClass => {
    if (exclude?.test(path)) return EXCLUDED;
    if (include?.test(path)) return FIRST_PARTY;
    const name = path.slice(path.lastIndexOf("/") + 1);
    let vendored: boolean | undefined;
    let generated: boolean | undefined;
    for (const rule of rules) {
      if (!rule.match(path, name)) continue;
      if (rule.vendored !== undefined) vendored = rule.vendored;
      if (rule.generated !== undefined) generated = rule.generated;
    }
    if (generated) return { class: "generated", reason: "linguist-generated in .gitattributes", skip: skipGenerated };
    if (vendored) return { class: "vendored", reason: "linguist-vendored in .gitattributes", skip: skipVendored };
    if (generated === undefined && GENERATED_NAME.test(name)) {
      return { class: "generated", reason: `generated file (${name})`, skip: skipGenerated };
    }
    const tree = vendored === undefined ? VENDORED_TREE.exec(path) : null;
    if (tree) return { class: "vendored", reason: `vendored code (${tree[1]}/)`, skip: skipVendored };
    return FIRST_PARTY;
  };
  return (path) => {
    let known = cache.get(path);
    if (!known) {
      known = classify(path);
      cache.set(path, known);
    }
    return known;
  };
}

// ---- rank.ts
const MAX_LOCATIONS = 5;
const GROUPED_KINDS = new Set(["todo", "failing_check"]);
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
export function referenceNormaliseText(text: string): string {
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
function byRank(oldest: number) {
  const tieAge = (since: number) => (Number.isNaN(since) ? Number.POSITIVE_INFINITY : Math.max(since, oldest));
  return <T extends RankInput>(a: Row<T>, b: Row<T>): number =>
    b.score - a.score || tieAge(a.since) - tieAge(b.since) || byLocation(a.item, b.item);
}
export function referenceRankFindings<T extends RankInput>(findings: readonly T[], now: Date, options: RankOptions = {}): Ranked<T>[] {
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
    const text = referenceNormaliseText(item.title);
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

// ---- index.ts
export function referenceRankBacklog(rows: readonly FindingRow[], now: Date, options: RankOptions = {}): Ranked<BacklogItem>[] {
  return referenceRankFindings(rows.map(toItem), now, options);
}
function toItem(row: FindingRow): BacklogItem {
  return {
    id: row.id,
    repository_id: row.repository_id,
    fingerprint: row.fingerprint,
    kind: row.kind,
    title: row.title,
    body: row.body,
    path: row.path,
    line: row.line,
    url: row.url,
    issue_number: row.issue_number,
    first_seen_at: row.first_seen_at,
    last_seen_at: row.last_seen_at,
    resolved_at: row.resolved_at,
    dismissed_at: row.dismissed_at,
    last_task_outcome: row.last_task_outcome,
    last_task_hash: row.last_task_hash,
    dismissed_by: row.dismissed_by,
    signals: parseSignals(row.signals),
    firstSeenAt: row.first_seen_at,
    issueNumber: row.issue_number,
  };
}
function parseSignals(json: string): FindingSignals {
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === "object" ? (value as FindingSignals) : {};
  } catch {
    return {};
  }
}
