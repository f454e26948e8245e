/**
 * The input of bench/rank.ts, shared with test/unit/prioritizer/same-as-reference.test.ts so the
 * test compares the ranking on exactly what the bench times: `size` stored finding rows from a
 * seeded generator (2/3 TODOs, 30% of titles from six common texts, paths across ten trees with
 * vendored and generated ones), three `.gitattributes` rules, one `exclude`, one `include` and
 * 300 past task outcomes. Deterministic: the same `size` gives the same rows.
 */
import { type OutcomeRecord, parseGitAttributes, type RankOptions } from "../src/prioritizer/index.js";
import type { FindingKind, FindingRow } from "../src/store/schema.js";

/** A deterministic pseudo-random sequence (mulberry32), so every run ranks the same input. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DIRS = ["src", "lib", "test", "spec", "deps/jemalloc", "vendor/x", "third_party/y", "tools", "docs", "packages/a/src"];
const MARKERS = ["TODO", "TODO", "TODO", "FIXME", "HACK", "XXX", "BUG"];
const COMMON = ["add test", "handle error", "remove this", "refactor", "use a map here", "check bounds"];
const KINDS: FindingKind[] = ["todo", "todo", "todo", "todo", "todo", "todo", "stale_issue", "issue", "failing_check"];

/** `n` stored findings of one repository, seeded (42). */
export function makeRows(n: number): FindingRow[] {
  const r = random(42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;
  return Array.from({ length: n }, (_, i) => {
    const kind = pick(KINDS);
    const day = new Date(Date.UTC(2015, 0, 1) + Math.floor(r() * 4000) * 86_400_000).toISOString();
    const issue = kind === "issue" || kind === "stale_issue";
    const signals = issue
      ? { createdAt: day, labels: r() < 0.3 ? ["bug"] : [], reactions: Math.floor(r() * 5), comments: Math.floor(r() * 12) }
      : kind === "failing_check"
        ? { checkName: `ci / job ${i % 50}`, flaky: r() < 0.2 }
        : { marker: pick(MARKERS), author: "a", authoredAt: day };
    const path = issue ? null : `${pick(DIRS)}/m${Math.floor(r() * 2000)}/f${i % 97}.${pick(["c", "ts", "py", "min.js", "go"])}`;
    return {
      id: i + 1,
      repository_id: 1,
      fingerprint: `fp${i}`,
      kind,
      title: r() < 0.3 ? pick(COMMON) : `item ${i} ${Math.floor(r() * 1e6)}`,
      body: null,
      path,
      line: path ? 1 + Math.floor(r() * 3000) : null,
      url: null,
      issue_number: issue ? i : null,
      signals: JSON.stringify(signals),
      first_seen_at: day,
      last_seen_at: day,
      resolved_at: null,
      dismissed_at: null,
      last_task_outcome: null,
      last_task_hash: null,
      dismissed_by: null,
    } as FindingRow;
  });
}

/** The ranking options of the bench: `.gitattributes` rules, `exclude`, `include` and 300 past outcomes. */
export function benchOptions(): RankOptions {
  const outcomes: OutcomeRecord[] = Array.from({ length: 300 }, (_, i) => ({
    kind: KINDS[i % KINDS.length] as FindingKind,
    path: `${DIRS[i % DIRS.length]}/x.c`,
    outcome: (["merged", "closed", "failed", "no_changes"] as const)[i % 4] as OutcomeRecord["outcome"],
  }));
  return {
    attributes: parseGitAttributes("deps/** linguist-vendored\n*.pb.go linguist-generated\ntools/gen/** linguist-generated\n"),
    exclude: ["docs/**"],
    include: ["vendor/x/ours/**"],
    outcomes,
  };
}

/** The bench's clock. */
export const BENCH_NOW = new Date("2026-12-01T00:00:00Z");
