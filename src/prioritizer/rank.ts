import { type BacklogGroup, Ranking, type RankOptions } from "./ranking.js";
import type { RankInput, ScorePart } from "./score.js";

export { type BacklogGroup, MAX_LOCATIONS, type RankOptions } from "./ranking.js";
export { type RankInput, type ScorePart, scoreFinding } from "./score.js";
export { normaliseText } from "./text.js";

/** A backlog row: its representative finding, its place, the explanation of its score, and its group. */
export type Ranked<T extends RankInput> = T & { rank: number; score: number; breakdown: ScorePart[]; group: BacklogGroup<T> };

/**
 * Ranks findings into backlog rows (weights in weights.ts). Excluded paths, and generated (or, with
 * `vendored: "skip"`, vendored) code, are left out; findings of a grouped kind sharing normalised
 * text and path class become one row whose representative is its best member, plus a `repeated`
 * part. Ties are broken by age (older first, up to the age cap), then location, then fingerprint.
 * Pure: no I/O, no clock (pass `now`). Each row is a plain copy of its finding with every field
 * built; `rankBacklog` (index.ts) is the fast path for stored findings, building a row's
 * breakdown and group only when read.
 */
export function rankFindings<T extends RankInput>(findings: readonly T[], now: Date, options: RankOptions = {}): Ranked<T>[] {
  const ranking = new Ranking<T>(now, options);
  for (const f of findings) ranking.add(f, f.kind, f.fingerprint, f.title, f.signals, f.firstSeenAt, f.path, f.line, f.issueNumber);
  return ranking.order().rows.map((row, i) => {
    const breakdown = ranking.explain(row);
    const group = ranking.group(row, (m) => m.item);
    // Spread last: adding keys after a spread turns the copy into a slow dictionary object.
    return { rank: i + 1, score: row.score, breakdown, group, ...row.item };
  });
}
