import type { FindingSignals } from "../scanners/types.js";
import type { FindingRow } from "../store/schema.js";
import { type Ranked, type RankInput, rankFindings } from "./rank.js";

export { type Ranked, type RankInput, rankFindings, type ScorePart, scoreFinding } from "./rank.js";
export { WEIGHTS } from "./weights.js";

/** A stored finding in the prioritizer's shape (signals parsed). */
export type BacklogItem = Omit<FindingRow, "signals"> & RankInput;

/** Ranks stored findings: the backlog. Pure apart from parsing each row's JSON signals. */
export function rankBacklog(rows: readonly FindingRow[], now: Date): Ranked<BacklogItem>[] {
  return rankFindings(
    rows.map((row) => ({ ...row, signals: JSON.parse(row.signals) as FindingSignals, firstSeenAt: row.first_seen_at })),
    now,
  );
}
