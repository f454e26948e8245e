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
export function sinceMs(finding: RankInput): number {
  const s = finding.signals;
  return Date.parse(s.authoredAt ?? s.createdAt ?? finding.firstSeenAt);
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
export function tally(finding: RankInput, ageMs: number, context: ScoreContext, parts?: ScorePart[]): number {
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
