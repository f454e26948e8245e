import type { FindingSignals } from "../scanners/types.js";
import type { FindingRow } from "../store/schema.js";
import { type BacklogItem, BacklogRow } from "./backlog-row.js";
import type { Ranked } from "./rank.js";
import { Ranking, type RankOptions } from "./ranking.js";
import type { Row } from "./rows.js";

export { type BacklogItem, BacklogRow } from "./backlog-row.js";
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
export { AGE_CAP_DAYS, parseTime } from "./score.js";
export { WEIGHTS } from "./weights.js";

/**
 * Ranks stored findings into the backlog (see `rankFindings` for `options` and the order). Pure
 * apart from parsing each row's JSON signals; a row whose signals do not parse ranks with none.
 * Rows are `BacklogRow`s: `signals`, `breakdown` and `group` are built when first read, from
 * `rows`, which must not be changed while the result is in use. About 220 ms for 100,000 findings
 * (bench/rank.ts).
 */
export function rankBacklog(rows: readonly FindingRow[], now: Date, options: RankOptions = {}): Ranked<BacklogItem>[] {
  const ranking = rankingOf(rows, now, options);
  return ranking.order().rows.map((row, i) => new BacklogRow(row, ranking, i + 1));
}

/**
 * The first `limit` rows of `rankBacklog(rows, now, options)` (the same rows, ranks and scores)
 * and how many rows the whole backlog has, without sorting the rest: for tables that show the top.
 * @param limit how many rows at most (0 gives none, with the total).
 */
export function rankBacklogTop(
  rows: readonly FindingRow[],
  now: Date,
  limit: number,
  options: RankOptions = {},
): { rows: Ranked<BacklogItem>[]; total: number } {
  const ranking = rankingOf(rows, now, options);
  const ranked = ranking.order(limit);
  return { rows: ranked.rows.map((row, i) => new BacklogRow(row, ranking, i + 1)), total: ranked.total };
}

/**
 * The backlog of `rankBacklog(rows, now, options)` as a stream, for writers of every row: the
 * same rows, built one at a time as `rows` is iterated, and let go by the ranking once passed
 * (with their group's findings), so memory shrinks as the writer goes instead of holding every
 * row and its breakdown. `total` is the row count. Iterate once. The caller should keep no
 * reference to `rows` either (pass the expression).
 */
export function streamBacklog(
  rows: readonly FindingRow[],
  now: Date,
  options: RankOptions = {},
): { total: number; rows: Iterable<Ranked<BacklogItem>> } {
  const ranking = rankingOf(rows, now, options);
  const ordered: (Row<FindingRow> | undefined)[] = ranking.order().rows;
  return { total: ordered.length, rows: releasing(ordered, ranking) };
}

function* releasing(ordered: (Row<FindingRow> | undefined)[], ranking: Ranking<FindingRow>): Generator<Ranked<BacklogItem>> {
  for (let i = 0; i < ordered.length; i++) {
    const row = ordered[i] as Row<FindingRow>;
    ordered[i] = undefined;
    yield new BacklogRow(row, ranking, i + 1);
  }
}

/** The parsed signals are scored and dropped (`reread`): each shown row parses its own again when read. */
function rankingOf(rows: readonly FindingRow[], now: Date, options: RankOptions): Ranking<FindingRow> {
  const ranking = new Ranking<FindingRow>(now, options, (r) => parseSignals(r.signals));
  for (const r of rows)
    ranking.add(
      r,
      r.kind,
      r.fingerprint,
      r.title,
      parseSignals(r.signals),
      r.first_seen_at,
      r.path,
      r.line,
      r.issue_number,
      r.repository_id,
    );
  return ranking;
}

/** A row's stored JSON signals; `{}` when they do not parse to an object. */
export function parseSignals(json: string): FindingSignals {
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === "object" ? (value as FindingSignals) : {};
  } catch {
    return {};
  }
}
