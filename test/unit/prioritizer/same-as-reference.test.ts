import { describe, expect, it } from "vitest";
import { BENCH_NOW, benchOptions, makeRows } from "../../../bench/rank-rows.js";
import { type RankOptions, rankBacklog, rankBacklogTop, rankFindings, streamBacklog } from "../../../src/prioritizer/index.js";
import type { FindingRow } from "../../../src/store/schema.js";
import { referenceRankBacklog, referenceRankFindings } from "./reference-ranking.js";

/**
 * Everything a caller can read of a row, as JSON: fields, rank, score, signals, breakdown and the
 * whole group (a `BacklogRow` serialises through `toJSON`, which reads its own fields and getters).
 */
function view(row: object): string {
  return JSON.stringify(row);
}

/** Compares row by row; on the first difference, shows that row's diff (not 60,000 rows'). */
function expectSame(actual: readonly (object & { breakdown: unknown; group: unknown })[], expected: typeof actual): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = view(actual[i] as (typeof actual)[number]);
    const e = view(expected[i] as (typeof actual)[number]);
    if (a !== e) expect([i, JSON.parse(a)]).toEqual([i, JSON.parse(e)]);
  }
}

const rows = makeRows(100_000);
const options = benchOptions();

/** A few rows the generator never makes: odd whitespace and punctuation, unparsable and odd signals, dates the fast path leaves to `Date.parse`. */
function oddRows(): FindingRow[] {
  const base = rows[0] as FindingRow;
  const odd = (i: number, title: string, signals: string, path: string | null = `src/odd${i % 3}.c`): FindingRow => ({
    ...base,
    id: 1_000_000 + i,
    fingerprint: `odd${i}`,
    kind: path ? "todo" : "issue",
    title,
    path,
    line: path ? i : null,
    issue_number: path ? null : 900_000 + i,
    signals,
  });
  return [
    odd(1, "  Add\ttest. ", '{"marker":"todo","authoredAt":"2026-02-29T00:00:00.000Z"}'),
    odd(2, "add test", '{"marker":"FIXME","authoredAt":"2026-11-30T23:59:59Z"}'),
    odd(3, "> - Add test…", "{not json"),
    odd(4, "ADD TEST!", '{"marker":"HACK","authoredAt":"2026-11-30T24:00:00.000Z"}'),
    odd(5, "Crash", '{"createdAt":"Mon, 01 Jun 2026 10:00:00 GMT","labels":["Security","bug"],"reactions":9,"comments":30}', null),
    odd(6, "Crash", '{"createdAt":"2026-13-01T00:00:00Z","reactions":"3"}', null),
    odd(7, "Handle  error", "[1,2]"),
    odd(8, "handle error", '{"authoredAt":"0099-01-01T00:00:00.000Z"}'),
    odd(9, "", "null"),
  ];
}

describe("the ranking equals the reference (the implementation before the speed rewrite)", () => {
  const cases: [string, readonly FindingRow[], RankOptions][] = [
    ["the bench's 100,000 rows with its options", rows, options],
    ["20,000 rows without options, plus odd rows", [...rows.slice(0, 20_000), ...oddRows()], {}],
    [
      "20,000 rows ungrouped, vendored skipped, generated demoted",
      rows.slice(20_000, 40_000),
      { ...options, group: false, vendored: "skip", generated: "demote" },
    ],
  ];

  for (const [name, input, opts] of cases) {
    it(`rankBacklog: ${name}`, () => {
      const expected = referenceRankBacklog(input, BENCH_NOW, opts);
      const actual = rankBacklog(input, BENCH_NOW, opts);
      expectSame(actual, expected);
      const stream = streamBacklog(input, BENCH_NOW, opts);
      expect(stream.total).toBe(expected.length);
      expectSame([...stream.rows], expected);
      // The fields a caller reads directly (not through toJSON) are the reference's too.
      for (const i of [0, 1, 2, Math.floor(actual.length / 2), actual.length - 1]) {
        const [a, e] = [actual[i], expected[i]];
        expect([a?.rank, a?.score, a?.id, a?.title, a?.path, a?.signals, a?.breakdown, a?.group]).toEqual([
          e?.rank,
          e?.score,
          e?.id,
          e?.title,
          e?.path,
          e?.signals,
          e?.breakdown,
          e?.group,
        ]);
      }
    });
  }

  it("rankFindings on the bench's findings as RankInput", () => {
    const items = rows.slice(0, 30_000).map((r) => ({
      kind: r.kind,
      fingerprint: r.fingerprint,
      title: r.title,
      path: r.path,
      line: r.line,
      issueNumber: r.issue_number,
      firstSeenAt: r.first_seen_at,
      signals: JSON.parse(r.signals),
    }));
    expectSame(rankFindings(items, BENCH_NOW, options), referenceRankFindings(items, BENCH_NOW, options));
  });

  it("rankBacklogTop gives the first rows of the full ranking and the full row count", () => {
    const full = rankBacklog(rows, BENCH_NOW, options);
    for (const limit of [1, 20, 50, 1000]) {
      const top = rankBacklogTop(rows, BENCH_NOW, limit, options);
      expect(top.total).toBe(full.length);
      expectSame(top.rows, full.slice(0, limit));
    }
    expect(rankBacklogTop(rows.slice(0, 10), BENCH_NOW, 50, options).rows).toHaveLength(
      rankBacklog(rows.slice(0, 10), BENCH_NOW, options).length,
    );
  });
});
