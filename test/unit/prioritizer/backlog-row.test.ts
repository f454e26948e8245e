import { describe, expect, it } from "vitest";
import { BacklogRow, rankBacklog, rankBacklogTop, streamBacklog } from "../../../src/prioritizer/index.js";
import type { FindingRow } from "../../../src/store/schema.js";

const now = new Date("2026-11-21T00:00:00Z");
const row = (id: number, title: string, path: string, signals: string): FindingRow => ({
  id,
  repository_id: 1,
  fingerprint: `f${id}`,
  kind: "todo",
  title,
  body: null,
  path,
  line: id,
  url: null,
  issue_number: null,
  signals,
  first_seen_at: "2026-01-01T00:00:00.000Z",
  last_seen_at: "2026-11-20T00:00:00.000Z",
  resolved_at: null,
  dismissed_at: null,
  last_task_outcome: null,
  last_task_hash: null,
  dismissed_by: null,
});
const rows = [
  row(1, "add test", "src/a.ts", '{"marker":"TODO","author":"Ann","authoredAt":"2026-01-01T00:00:00Z"}'),
  row(2, "Add test.", "src/b.ts", '{"marker":"FIXME","author":"Bo","authoredAt":"2026-02-01T00:00:00Z"}'),
  row(3, "refactor", "src/c.ts", '{"marker":"HACK"}'),
];

describe("BacklogRow (rankBacklog's rows)", () => {
  it("builds signals, breakdown and group once, on first read, and serialises them like a plain row", () => {
    const [first] = rankBacklog(rows, now);
    expect(first).toBeInstanceOf(BacklogRow);
    expect(first?.fingerprint).toBe("f2"); // the FIXME represents the group
    expect(first?.signals).toEqual({ marker: "FIXME", author: "Bo", authoredAt: "2026-02-01T00:00:00Z" });
    expect(first?.signals).toBe(first?.signals);
    expect(first?.breakdown).toBe(first?.breakdown);
    expect(first?.group).toBe(first?.group);
    expect(first?.score).toBe(first?.breakdown.reduce((s, p) => s + p.points, 0));
    expect(first instanceof BacklogRow && first.count).toBe(2);
    expect(first?.group.count).toBe(2);
    expect(first?.group.fingerprints).toEqual(["f2", "f1"]);
    // The representative's own location carries the very signals object the row has.
    expect(first?.group.locations.find((l) => l.fingerprint === "f2")?.signals).toBe(first?.signals);
    const json = JSON.parse(JSON.stringify(first));
    expect(Object.keys(json).slice(0, 4)).toEqual(["rank", "score", "breakdown", "group"]);
    expect(json).toMatchObject({ rank: 1, id: 2, title: "Add test.", signals: { marker: "FIXME" }, group: { count: 2 } });
  });

  it("rankBacklogTop(0) gives no rows but the total; streamBacklog gives rankBacklog's rows once each", () => {
    expect(rankBacklogTop(rows, now, 0)).toEqual({ rows: [], total: 2 });
    const stream = streamBacklog(rows, now);
    const all = rankBacklog(rows, now);
    expect(stream.total).toBe(2);
    expect([...stream.rows].map((r) => [r.rank, r.fingerprint, r.score, r.breakdown])).toEqual(
      all.map((r) => [r.rank, r.fingerprint, r.score, r.breakdown]),
    );
  });
});
