import type { FindingSignals } from "../scanners/types.js";
import type { FindingRow } from "../store/schema.js";
import { type Ranked, type RankInput, type RankOptions, rankFindings } from "./rank.js";

export { type OutcomeFactor, type OutcomeRecord, outcomeFactors, pathArea, type TaskOutcomeKind } from "./outcomes.js";
export { type AttributeRule, type PathClass, type PathPolicy, parseGitAttributes, pathClassifier } from "./paths.js";
export {
  type BacklogGroup,
  MAX_LOCATIONS,
  normaliseText,
  type Ranked,
  type RankInput,
  type RankOptions,
  rankFindings,
  type ScorePart,
  scoreFinding,
} from "./rank.js";
export { AGE_CAP_DAYS } from "./score.js";
export { WEIGHTS } from "./weights.js";

/** A stored finding in the prioritizer's shape (signals parsed). */
export type BacklogItem = Omit<FindingRow, "signals"> & RankInput;

/**
 * Ranks stored findings into the backlog (see `rankFindings` for `options`). Pure apart from
 * parsing each row's JSON signals; a row whose signals do not parse ranks with none.
 */
export function rankBacklog(rows: readonly FindingRow[], now: Date, options: RankOptions = {}): Ranked<BacklogItem>[] {
  return rankFindings(rows.map(toItem), now, options);
}

/**
 * Field by field rather than `{ ...row, signals }`: a spread followed by more keys makes a
 * dictionary-mode object, three times slower to build and read (bench/rank.ts). A column added to
 * `findings` fails the type check here until it is listed.
 */
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
