import { describe, expect, it } from "vitest";
import { type RankInput, rankFindings, scoreFinding, WEIGHTS } from "../../../src/prioritizer/index.js";

const now = new Date("2026-11-21T00:00:00Z");
const finding = (over: Partial<RankInput> & Pick<RankInput, "fingerprint">): RankInput => ({
  kind: "todo",
  title: over.fingerprint,
  signals: {},
  firstSeenAt: now.toISOString(),
  ...over,
});

describe("prioritizer", () => {
  it("explains a score as the sum of its parts", () => {
    const { score, breakdown } = scoreFinding(
      finding({
        fingerprint: "a",
        signals: { marker: "FIXME", authoredAt: "2025-11-21T00:00:00Z", reactions: 3, comments: 20, labels: ["Bug", "docs"] },
      }),
      now,
    );
    expect(breakdown.map((p) => p.signal)).toEqual(["kind", "marker", "age", "reactions", "comments", "label"]);
    expect(breakdown.find((p) => p.signal === "marker")?.points).toBe(WEIGHTS.marker.FIXME);
    expect(breakdown.find((p) => p.signal === "age")?.reason).toBe("365 days old");
    expect(breakdown.find((p) => p.signal === "comments")?.points).toBe(WEIGHTS.comments.max);
    expect(breakdown.find((p) => p.signal === "label")?.reason).toBe('label "Bug"');
    expect(score).toBe(breakdown.reduce((sum, p) => sum + p.points, 0));
  });

  it("ranks a failing check above a labelled issue above a stale issue above a TODO", () => {
    const ranked = rankFindings(
      [
        finding({ fingerprint: "t", kind: "todo", signals: { marker: "TODO" } }),
        finding({ fingerprint: "s", kind: "stale_issue" }),
        finding({ fingerprint: "c", kind: "failing_check" }),
        finding({ fingerprint: "i", kind: "issue" }),
      ],
      now,
    );
    expect(ranked.map((r) => [r.rank, r.fingerprint])).toEqual([
      [1, "c"],
      [2, "i"],
      [3, "s"],
      [4, "t"],
    ]);
  });

  it("ranks FIXME above TODO, older above newer, and a flaky check below a steady failure", () => {
    const ranked = rankFindings(
      [
        finding({ fingerprint: "new-todo", signals: { marker: "TODO", authoredAt: "2026-11-20T00:00:00Z" } }),
        finding({ fingerprint: "old-todo", signals: { marker: "TODO", authoredAt: "2020-01-01T00:00:00Z" } }),
        finding({ fingerprint: "fixme", signals: { marker: "FIXME", authoredAt: "2026-11-20T00:00:00Z" } }),
      ],
      now,
    );
    expect(ranked.map((r) => r.fingerprint)).toEqual(["old-todo", "fixme", "new-todo"]);
    const checks = rankFindings(
      [
        finding({ fingerprint: "flaky", kind: "failing_check", signals: { flaky: true } }),
        finding({ fingerprint: "red", kind: "failing_check" }),
      ],
      now,
    );
    expect(checks.map((r) => r.fingerprint)).toEqual(["red", "flaky"]);
  });

  it("gives the same order for the same input, whatever the input order", () => {
    const items = Array.from({ length: 50 }, (_, i) => finding({ fingerprint: `f${i}`, signals: { marker: i % 2 ? "TODO" : "HACK" } }));
    const a = rankFindings(items, now).map((r) => r.fingerprint);
    const b = rankFindings([...items].reverse(), now).map((r) => r.fingerprint);
    expect(b).toEqual(a);
    expect(new Set(a).size).toBe(50);
  });

  it("breaks equal scores by age (older first), then by location, not by input order", () => {
    const day = (d: string) => ({ marker: "TODO", authoredAt: `2026-11-${d}T00:00:00Z` });
    const items = [
      finding({ fingerprint: "z", path: "b.ts", line: 1, signals: day("01") }),
      finding({ fingerprint: "y", path: "a.ts", line: 9, signals: day("01") }),
      finding({ fingerprint: "x", path: "a.ts", line: 2, signals: day("01") }),
      // same points (age rounds alike) but a day older
      finding({ fingerprint: "w", path: "c.ts", line: 1, signals: day("02") }),
      finding({ fingerprint: "v", path: "c.ts", line: 1, signals: { marker: "TODO", authoredAt: "2026-10-31T12:00:00Z" } }),
    ];
    const scores = rankFindings(items, now).map((r) => r.score);
    expect(new Set(scores).size).toBe(1);
    expect(rankFindings(items, now).map((r) => r.fingerprint)).toEqual(["v", "x", "y", "z", "w"]);
    expect(rankFindings([...items].reverse(), now).map((r) => r.fingerprint)).toEqual(["v", "x", "y", "z", "w"]);
  });
});
