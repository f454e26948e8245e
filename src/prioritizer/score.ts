import type { FindingSignals } from "../scanners/types.js";
import type { FindingKind } from "../store/schema.js";
import type { OutcomeFactor } from "./outcomes.js";
import type { PathClass } from "./paths.js";
import { WEIGHTS } from "./weights.js";

/** What the prioritizer needs of a finding. */
export interface RankInput {
  kind: FindingKind;
  fingerprint: string;
  title: string;
  signals: FindingSignals;
  /** ISO time the finding was first seen; the age fallback when the signals carry no date. */
  firstSeenAt: string;
  /** Repo-relative path and 1-based line, for code findings: vendored/generated checks, path area, ties. */
  path?: string | null;
  line?: number | null;
  /** For issue findings: the issue number, their location in ties. */
  issueNumber?: number | null;
}

/** One signal's contribution to a score. */
export interface ScorePart {
  signal: "kind" | "marker" | "age" | "reactions" | "comments" | "label" | "flaky" | "outcomes" | "vendored" | "generated" | "repeated";
  points: number;
  /** Why, in words a maintainer reads in the backlog. */
  reason: string;
}

/** Context a ranking adds to one finding's own signals. */
export interface ScoreContext {
  /** From `pathClassifier`: a demoted vendored or generated path adds a negative part. */
  pathClass?: PathClass;
  /** From `outcomeFactors`: scales the signal parts, shown as one `outcomes` part. */
  outcome?: OutcomeFactor;
}

const DAY_MS = 86_400_000;

/**
 * Days after which the age part stops growing (it is `round(log2(1 + days) × perDoubling)`, capped
 * at `max`): about 228 days with the default weights. Older findings all score the same age.
 */
export const AGE_CAP_DAYS = Math.ceil(2 ** ((WEIGHTS.age.max - 0.5) / WEIGHTS.age.perDoubling) - 1);

/** Epoch ms the finding's age counts from: authored (TODO), created (issue), else first seen; NaN if none parses. */
export function sinceMs(finding: Pick<RankInput, "signals" | "firstSeenAt">): number {
  const s = finding.signals;
  return parseTime(s.authoredAt ?? s.createdAt ?? finding.firstSeenAt);
}

/** Two decimal digits at `at`, or -1000 when either is not a digit (so every range check fails). */
function two(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1000;
}

/**
 * `Date.parse(text)`, with a fast path for the UTC forms the store and GitHub write
 * (`2026-01-02T03:04:05.678Z`, `2026-01-02T03:04:05Z`): `Date.parse` cost about 20 ms per
 * 100,000 findings (bench/rank.ts), this a few. The fast path takes only dates it cannot get wrong
 * (years 1000–9999, days 1–28, times within range) and leaves the rest, even valid ones, to
 * `Date.parse`, so the result is always the same (test/unit/prioritizer/fast-paths.test.ts).
 */
export function parseTime(text: string): number {
  if (typeof text !== "string") return Date.parse(text);
  const n = text.length;
  if ((n === 24 || n === 20) && text.charCodeAt(n - 1) === 90 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45) {
    if (text.charCodeAt(10) === 84 && text.charCodeAt(13) === 58 && text.charCodeAt(16) === 58) {
      const century = two(text, 0);
      const years = two(text, 2);
      const year = century * 100 + years;
      const month = two(text, 5);
      const day = two(text, 8);
      const hour = two(text, 11);
      const minute = two(text, 14);
      const second = two(text, 17);
      let ms = 0;
      if (n === 24) {
        const c = text.charCodeAt(22) - 48;
        ms = text.charCodeAt(19) === 46 && c >= 0 && c <= 9 ? two(text, 20) * 10 + c : -1000;
      }
      const valid = century >= 10 && years >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= 28;
      if (valid && hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && ms >= 0) {
        return Date.UTC(year, month - 1, day, hour, minute, second, ms);
      }
    }
  }
  return Date.parse(text);
}

/**
 * Scores one finding at time `now`: the sum of its parts, each explained (weights in weights.ts).
 * Pure. The outcome factor scales the signal parts; the vendored/generated penalty comes after it.
 */
export function scoreFinding(finding: RankInput, now: Date, context: ScoreContext = {}): { score: number; breakdown: ScorePart[] } {
  const breakdown: ScorePart[] = [];
  const score = tally(finding, now.getTime() - sinceMs(finding), context, breakdown);
  return { score, breakdown };
}

/**
 * The score of `finding`, `ageMs` old; pushes the explained parts onto `parts` when given. One
 * function for both, so the ranking can score 100,000 findings without building their words and
 * explain only the rows it shows, and the two can never disagree.
 */
export function tally(finding: Pick<RankInput, "kind" | "signals">, ageMs: number, context: ScoreContext, parts?: ScorePart[]): number {
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
    // A line older than the scan's horizon has the horizon as its date: say "over", not a false exact age.
    parts?.push({ signal: "age", points, reason: `${s.authoredBefore ? "over " : ""}${Math.floor(days)} days old` });
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
