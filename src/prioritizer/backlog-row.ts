import type { FindingSignals } from "../scanners/types.js";
import type { FindingRow } from "../store/schema.js";
import type { BacklogGroup, Ranking } from "./ranking.js";
import type { Row } from "./rows.js";
import type { RankInput, ScorePart } from "./score.js";

/** A stored finding in the prioritizer's shape (signals parsed). */
export type BacklogItem = Omit<FindingRow, "signals"> & RankInput;

/**
 * `row` as a `BacklogItem`, field by field rather than `{ ...row, signals }`: a spread followed by
 * more keys makes a dictionary-mode object, three times slower to build and read. A column added
 * to `findings` fails the type check here until it is listed (and in `BacklogRow`).
 */
export function toItem(row: Omit<FindingRow, "signals">, signals: FindingSignals): BacklogItem {
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
    signals,
    firstSeenAt: row.first_seen_at,
    issueNumber: row.issue_number,
  };
}

/**
 * One row of `rankBacklog`: the representative finding's fields and `rank`/`score` as own data
 * properties; `signals`, `breakdown` and `group` as getters built on first read and kept. At
 * 100,000 findings most rows are never shown (the dashboard shows 20), and building every row's
 * words, locations and fingerprints, and keeping every finding's parsed signals, was most of the
 * ranking's time and garbage (bench/rank.ts). `JSON.stringify` gives what a plain row would
 * (`toJSON`); a spread or `Object.keys` sees no signals, breakdown or group.
 */
export class BacklogRow {
  rank: number;
  score: number;
  id: FindingRow["id"];
  repository_id: FindingRow["repository_id"];
  fingerprint: FindingRow["fingerprint"];
  kind: FindingRow["kind"];
  title: FindingRow["title"];
  body: FindingRow["body"];
  path: FindingRow["path"];
  line: FindingRow["line"];
  url: FindingRow["url"];
  issue_number: FindingRow["issue_number"];
  first_seen_at: FindingRow["first_seen_at"];
  last_seen_at: FindingRow["last_seen_at"];
  resolved_at: FindingRow["resolved_at"];
  dismissed_at: FindingRow["dismissed_at"];
  last_task_outcome: FindingRow["last_task_outcome"];
  last_task_hash: FindingRow["last_task_hash"];
  dismissed_by: FindingRow["dismissed_by"];
  firstSeenAt: string;
  issueNumber: number | null;
  readonly #row: Row<FindingRow>;
  readonly #ranking: Ranking<FindingRow>;
  #signals: FindingSignals | undefined = undefined;
  #breakdown: ScorePart[] | undefined = undefined;
  #group: BacklogGroup<BacklogItem> | undefined = undefined;

  constructor(row: Row<FindingRow>, ranking: Ranking<FindingRow>, rank: number) {
    const f = row.item;
    this.rank = rank;
    this.score = row.score;
    this.id = f.id;
    this.repository_id = f.repository_id;
    this.fingerprint = f.fingerprint;
    this.kind = f.kind;
    this.title = f.title;
    this.body = f.body;
    this.path = f.path;
    this.line = f.line;
    this.url = f.url;
    this.issue_number = f.issue_number;
    this.first_seen_at = f.first_seen_at;
    this.last_seen_at = f.last_seen_at;
    this.resolved_at = f.resolved_at;
    this.dismissed_at = f.dismissed_at;
    this.last_task_outcome = f.last_task_outcome;
    this.last_task_hash = f.last_task_hash;
    this.dismissed_by = f.dismissed_by;
    this.firstSeenAt = f.first_seen_at;
    this.issueNumber = f.issue_number;
    this.#row = row;
    this.#ranking = ranking;
  }

  /** The finding's signals, parsed from the stored JSON when first read (the ranking keeps only what it scored). */
  get signals(): FindingSignals {
    this.#signals ??= this.#ranking.signalsOf(this.#row);
    return this.#signals;
  }

  set signals(value: FindingSignals) {
    this.#signals = value;
  }

  /** The parts of the score, in words; they sum to `score`. */
  get breakdown(): ScorePart[] {
    this.#breakdown ??= this.#ranking.explain(this.#row, this.signals);
    return this.#breakdown;
  }

  /** How many findings this row stands for: `group.count`, without building the group. */
  get count(): number {
    return this.#row.members?.length ?? 1;
  }

  /** The findings this row stands for (itself alone, or its group). */
  get group(): BacklogGroup<BacklogItem> {
    this.#group ??= this.#ranking.group(this.#row, (m) => toItem(m.item, m === this.#row ? this.signals : this.#ranking.signalsOf(m)));
    return this.#group;
  }

  /** The row as a plain object, keys in the order of `rankFindings`'s rows. */
  toJSON(): Record<string, unknown> {
    return { rank: this.rank, score: this.score, breakdown: this.breakdown, group: this.group, ...toItem(this, this.signals) };
  }
}
