import { describe, expect, it } from "vitest";
import {
  type OutcomeRecord,
  outcomeFactors,
  parseGitAttributes,
  pathClassifier,
  type RankInput,
  rankBacklog,
  rankFindings,
  WEIGHTS,
} from "../../../src/prioritizer/index.js";
import type { FindingRow } from "../../../src/store/schema.js";

const now = new Date("2026-11-21T00:00:00Z");
const todo = (fingerprint: string, title: string, path: string, line = 1, marker = "TODO"): RankInput => ({
  kind: "todo",
  fingerprint,
  title,
  path,
  line,
  signals: { marker, authoredAt: "2026-01-01T00:00:00Z" },
  firstSeenAt: now.toISOString(),
});

describe("ranking v2: grouping", () => {
  it("groups findings of one kind with the same normalised text into one row with a count and the first locations", () => {
    const items = [
      ...Array.from({ length: 277 }, (_, i) =>
        todo(`t${i}`, i % 2 ? "add test" : "Add  test.", `spec/f${String(i).padStart(3, "0")}.ts`, 3),
      ),
      todo("other", "refactor this", "src/a.ts", 10),
    ];
    const ranked = rankFindings(items, now);
    expect(ranked).toHaveLength(2);
    const row = ranked.find((r) => r.group.count === 277);
    expect(row?.group.locations.map((l) => l.path)).toEqual([
      "spec/f000.ts",
      "spec/f001.ts",
      "spec/f002.ts",
      "spec/f003.ts",
      "spec/f004.ts",
    ]);
    expect(row?.group.fingerprints).toHaveLength(277);
    const repeated = row?.breakdown.find((p) => p.signal === "repeated");
    expect(repeated).toEqual({ signal: "repeated", points: WEIGHTS.repeated.max, reason: "same text ×277 in 277 files" });
    expect(row?.score).toBe(row?.breakdown.reduce((s, p) => s + p.points, 0));
    expect(ranked.find((r) => r.fingerprint === "other")?.group.count).toBe(1);
  });

  it("represents a group by its best member and never groups issues or different kinds", () => {
    const items: RankInput[] = [
      todo("a", "fix me", "src/a.ts", 1, "TODO"),
      todo("b", "fix me", "src/b.ts", 1, "FIXME"),
      { kind: "issue", fingerprint: "i1", title: "Crash", issueNumber: 1, signals: {}, firstSeenAt: now.toISOString() },
      { kind: "issue", fingerprint: "i2", title: "Crash", issueNumber: 2, signals: {}, firstSeenAt: now.toISOString() },
      { kind: "failing_check", fingerprint: "c", title: "fix me", signals: {}, firstSeenAt: now.toISOString() },
    ];
    const ranked = rankFindings(items, now);
    expect(ranked.map((r) => r.fingerprint).sort()).toEqual(["b", "c", "i1", "i2"]);
    expect(ranked.find((r) => r.fingerprint === "b")?.group.fingerprints).toEqual(["b", "a"]);
    expect(rankFindings(items, now, { group: false })).toHaveLength(5);
  });
});

describe("ranking v2: vendored and generated code", () => {
  const gitattributes = [
    "# Linguist overrides",
    "libs/bundled/** linguist-vendored",
    "*.gen.c linguist-generated=true",
    "deps/ours/** -linguist-vendored",
    "docs/** linguist-documentation",
  ].join("\n");

  it("parses only the Linguist attributes of .gitattributes", () => {
    expect(parseGitAttributes(gitattributes)).toEqual([
      { pattern: "libs/bundled/**", vendored: true },
      { pattern: "*.gen.c", generated: true },
      { pattern: "deps/ours/**", vendored: false },
    ]);
  });

  it("skips generated files, demotes vendored trees below first-party code, and honours exclude/include", () => {
    const items = [
      todo("configure", "FIXME: quoting", "deps/jemalloc/configure", 1, "FIXME"),
      todo("jemalloc", "speed up", "deps/jemalloc/src/arena.c", 1, "FIXME"),
      todo("bundled", "upstream bug", "libs/bundled/x.c", 1, "BUG"),
      todo("gen", "regenerate", "src/parser.gen.c", 1, "BUG"),
      todo("min", "x", "web/app.min.js", 1, "BUG"),
      todo("ours", "our dep", "deps/ours/a.c", 1, "TODO"),
      todo("src", "plain todo", "src/server.c", 1, "TODO"),
      todo("scratch", "scratch", "scratch/a.c", 1, "BUG"),
      todo("kept", "kept", "third_party/kept/a.c", 1, "TODO"),
    ];
    const ranked = rankFindings(items, now, {
      attributes: parseGitAttributes(gitattributes),
      exclude: ["scratch/**"],
      include: ["third_party/kept/**"],
    });
    const order = ranked.map((r) => r.fingerprint);
    expect(order).not.toContain("configure");
    expect(order).not.toContain("gen");
    expect(order).not.toContain("min");
    expect(order).not.toContain("scratch");
    // first-party (incl. the include override and the -linguist-vendored path) before vendored
    expect(order.slice(0, 3).sort()).toEqual(["kept", "ours", "src"]);
    expect(order.slice(3).sort()).toEqual(["bundled", "jemalloc"]);
    expect(ranked.find((r) => r.fingerprint === "jemalloc")?.breakdown.at(-1)).toEqual({
      signal: "vendored",
      points: WEIGHTS.vendored,
      reason: "vendored code (deps/)",
    });
    expect(ranked.find((r) => r.fingerprint === "bundled")?.breakdown.at(-1)?.reason).toBe("linguist-vendored in .gitattributes");
  });

  it("can skip vendored code and keep generated code, demoted", () => {
    const classify = pathClassifier({ vendored: "skip", generated: "demote" });
    expect(classify("vendor/a.go")).toMatchObject({ class: "vendored", skip: true });
    expect(classify("configure")).toMatchObject({ class: "generated", skip: false });
    expect(classify("src/configure.c")).toEqual({ class: "first_party" });
    expect(classify("package-lock.json")).toMatchObject({ class: "generated" });
  });
});

describe("ranking v2: outcome feedback", () => {
  const history = (outcome: OutcomeRecord["outcome"], n: number, path = "src/x.c"): OutcomeRecord[] =>
    Array.from({ length: n }, () => ({ kind: "todo", path, outcome }));

  it("raises kinds and areas whose tasks merged, lowers those closed unmerged, failed a little, within bounds", () => {
    const merged = outcomeFactors(history("merged", 4))("todo", "src/y.c");
    const closed = outcomeFactors(history("closed", 4))("todo", "src/y.c");
    const failed = outcomeFactors(history("failed", 4))("todo", "src/y.c");
    expect(merged?.factor).toBeGreaterThan(1);
    expect(closed?.factor).toBeLessThan(1);
    expect(failed?.factor).toBeLessThan(1);
    expect(failed?.factor).toBeGreaterThan(closed?.factor ?? 1);
    const many = outcomeFactors(history("merged", 10_000))("todo", "src/y.c");
    expect(many?.factor).toBe(WEIGHTS.outcomes.max);
    expect(outcomeFactors(history("closed", 10_000))("todo", "src/y.c")?.factor).toBe(WEIGHTS.outcomes.min);
    expect(outcomeFactors([])("todo", "src/y.c")).toBeUndefined();
    expect(merged?.reason).toContain("todo tasks: 4 merged; tasks in src/: 4 merged");
  });

  it("moves findings in the breakdown and the order: merged areas up, closed areas down", () => {
    const items = [todo("lib", "a", "lib/a.c"), todo("src", "b", "src/b.c")];
    expect(rankFindings(items, now).map((r) => r.fingerprint)).toEqual(["lib", "src"]);
    const outcomes = [...history("merged", 3, "src/old.c"), ...history("closed", 3, "lib/old.c")];
    const ranked = rankFindings(items, now, { outcomes });
    expect(ranked.map((r) => r.fingerprint)).toEqual(["src", "lib"]);
    const part = ranked[0]?.breakdown.find((p) => p.signal === "outcomes");
    expect(part?.points).toBeGreaterThan(0);
    expect(ranked[1]?.breakdown.find((p) => p.signal === "outcomes")?.points).toBeLessThan(0);
    for (const r of ranked) expect(r.score).toBe(r.breakdown.reduce((s, p) => s + p.points, 0));
  });
});

describe("rankBacklog", () => {
  const row = (id: number, path: string, signals: string, repository = 1, title = `t${id}`): FindingRow => ({
    id,
    repository_id: repository,
    fingerprint: `f${id}`,
    kind: "todo",
    title,
    body: null,
    path,
    line: 1,
    url: null,
    issue_number: null,
    signals,
    first_seen_at: "2026-01-01T00:00:00Z",
    last_seen_at: "2026-01-01T00:00:00Z",
    resolved_at: null,
    dismissed_at: null,
    last_task_outcome: null,
    last_task_hash: null,
    dismissed_by: null,
  });

  it("ranks stored rows, survives unparsable signals, and passes options through", () => {
    const ranked = rankBacklog([row(1, "src/a.c", "{not json"), row(2, "src/b.c", '{"marker":"FIXME"}'), row(3, "x/y", "{}")], now, {
      exclude: ["x/**"],
    });
    expect(ranked.map((r) => r.id)).toEqual([2, 1]);
    expect(ranked[1]?.signals).toEqual({});
  });

  it("groups the same text within one repository, never across two", () => {
    const ranked = rankBacklog(
      [row(1, "a.c", "{}", 1, "add test"), row(2, "b.c", "{}", 1, "add test"), row(3, "a.c", "{}", 2, "add test")],
      now,
    );
    expect(ranked.map((r) => [r.repository_id, r.group.count])).toEqual([
      [1, 2],
      [2, 1],
    ]);
  });
});
