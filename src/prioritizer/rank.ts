import type { FindingSignals } from "../scanners/types.js";
import type { FindingKind } from "../store/schema.js";
import { WEIGHTS } from "./weights.js";

/** What the prioritizer needs of a finding. */
export interface RankInput {
  kind: FindingKind;
  fingerprint: string;
  title: string;
  signals: FindingSignals;
  /** ISO time the finding was first seen; the age fallback when the signals carry no date. */
  firstSeenAt: string;
}

/** One signal's contribution to a score. */
export interface ScorePart {
  signal: "kind" | "marker" | "age" | "reactions" | "comments" | "label" | "flaky";
  points: number;
  /** Why, in words a maintainer reads in the backlog. */
  reason: string;
}

/** A finding with its place in the backlog and the explanation of its score. */
export type Ranked<T extends RankInput> = T & { rank: number; score: number; breakdown: ScorePart[] };

const DAY_MS = 86_400_000;

/** Scores one finding at time `now`: the sum of its parts, each explained. Pure. */
export function scoreFinding(finding: RankInput, now: Date): { score: number; breakdown: ScorePart[] } {
  const s = finding.signals;
  const parts: ScorePart[] = [{ signal: "kind", points: WEIGHTS.kind[finding.kind], reason: `kind ${finding.kind}` }];
  if (s.marker) {
    const points = WEIGHTS.marker[s.marker.toUpperCase()] ?? WEIGHTS.marker.TODO ?? 0;
    parts.push({ signal: "marker", points, reason: `marker ${s.marker}` });
  }
  const since = s.authoredAt ?? s.createdAt ?? finding.firstSeenAt;
  const days = Math.max(0, (now.getTime() - Date.parse(since)) / DAY_MS);
  if (Number.isFinite(days) && days >= 1) {
    const points = Math.min(WEIGHTS.age.max, Math.round(Math.log2(1 + days) * WEIGHTS.age.perDoubling));
    parts.push({ signal: "age", points, reason: `${Math.floor(days)} days old` });
  }
  if (s.reactions) {
    parts.push({
      signal: "reactions",
      points: Math.min(WEIGHTS.reactions.max, s.reactions * WEIGHTS.reactions.each),
      reason: `${s.reactions} reactions`,
    });
  }
  if (s.comments) {
    parts.push({
      signal: "comments",
      points: Math.min(WEIGHTS.comments.max, s.comments * WEIGHTS.comments.each),
      reason: `${s.comments} comments`,
    });
  }
  for (const label of s.labels ?? []) {
    const points = WEIGHTS.labels[label.toLowerCase()];
    if (points) parts.push({ signal: "label", points, reason: `label "${label}"` });
  }
  if (s.flaky) parts.push({ signal: "flaky", points: WEIGHTS.flaky, reason: "failed and passed on the same commit (flaky)" });
  return { score: parts.reduce((sum, p) => sum + p.points, 0), breakdown: parts };
}

/**
 * Ranks findings: highest score first; ties broken by kind weight, then fingerprint, so the same
 * input always gives the same order. Pure: no I/O, no clock (pass `now`).
 */
export function rankFindings<T extends RankInput>(findings: readonly T[], now: Date): Ranked<T>[] {
  return findings
    .map((f) => ({ ...f, ...scoreFinding(f, now) }))
    .sort(
      (a, b) =>
        b.score - a.score ||
        WEIGHTS.kind[b.kind] - WEIGHTS.kind[a.kind] ||
        (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0),
    )
    .map((f, i) => ({ ...f, rank: i + 1 }));
}
