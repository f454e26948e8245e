/**
 * Reads test results out of a test command's output, where the runner speaks a format we know:
 * TAP (node:test's default when not on a terminal, and many others), and the summary lines of
 * vitest, jest, pytest, unittest, go test, cargo test and node:test's spec reporter. Output that
 * matches none gives `null`, and the caller falls back to the exit code and the output tail.
 * The text is untrusted (the repository's code wrote it): it is only matched, never run.
 */

/** Where a report came from. */
export type ReportFormat = "junit" | "tap" | "vitest" | "jest" | "pytest" | "unittest" | "go" | "cargo" | "node-spec";

/** Counts and the failing tests of one run of a suite. */
export interface TestReport {
  format: ReportFormat;
  /** Tests that passed; `null` when the format does not say (go test without `-v`). */
  passed: number | null;
  failed: number;
  skipped: number;
  /** Identities of the failing tests, unique and sorted, at most `MAX_FAILURE_IDS`; stable across runs of one command. */
  failures: string[];
}

/** Most failing-test identities kept per report: enough to attribute, bounded for the store and the PR. */
export const MAX_FAILURE_IDS = 500;

/** Unique, sorted, capped identities. */
export function failureIds(ids: Iterable<string>): string[] {
  return [...new Set([...ids].map((id) => id.trim()).filter(Boolean))].sort().slice(0, MAX_FAILURE_IDS);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are control characters by definition.
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/**
 * The first format that recognises `output` (stdout and stderr together), or null.
 * TAP goes first because a TAP stream can quote other runners' lines inside its YAML blocks.
 */
export function parseTestOutput(output: string): TestReport | null {
  const text = output.replace(ANSI, "").replace(/\r\n?/g, "\n");
  for (const parse of [parseTap, parsePytest, parseVitest, parseJest, parseCargo, parseUnittest, parseGo, parseNodeSpec]) {
    const report = parse(text);
    if (report) return report;
  }
  return null;
}

const TAP_LINE = /^(\s*)(not )?ok\b(?: \d+)?(?: -)?\s*(.*?)\s*$/;

/**
 * TAP 13/14 with indented subtests (https://testanything.org/tap-version-14-specification.html).
 * Only leaves count as tests: a parent's `not ok` that merely repeats its children's failures
 * would count one failure twice. A leaf's identity is its ancestors' names and its own, joined by ` > `.
 */
export function parseTap(text: string): TestReport | null {
  const lines = text.split("\n");
  if (!lines.some((l) => /^TAP version \d+/.test(l)) && !lines.some((l) => /^(not )?ok \d+/.test(l))) return null;
  interface Leaf {
    name: string;
    ok: boolean;
    skip: boolean;
  }
  // Children seen at each indentation, waiting for their parent's line (which comes after them).
  const pending = new Map<number, Leaf[]>();
  let top: Leaf[] = [];
  let inYaml = -1;
  for (const line of lines) {
    if (inYaml >= 0) {
      if (/^\s*\.\.\.\s*$/.test(line) && line.indexOf(".") === inYaml) inYaml = -1;
      continue;
    }
    if (/^\s*---\s*$/.test(line)) {
      inYaml = line.indexOf("-");
      continue;
    }
    const match = TAP_LINE.exec(line);
    if (!match) continue;
    const indent = match[1]?.length ?? 0;
    const [rawName = "", directive = ""] = (match[3] ?? "").split(/\s+#\s+/, 2);
    const name = rawName.replace(/\\#/g, "#");
    const skip = /^(skip|todo)\b/i.test(directive);
    const children = [...pending.entries()]
      .filter(([depth]) => depth > indent)
      .flatMap(([depth, leaves]) => {
        pending.delete(depth);
        return leaves;
      });
    const leaves = children.length
      ? children.map((child) => ({ ...child, name: `${name} > ${child.name}` }))
      : [{ name, ok: !match[2], skip }];
    if (indent === 0) top = top.concat(leaves);
    else pending.set(indent, [...(pending.get(indent) ?? []), ...leaves]);
  }
  const all = top.concat([...pending.values()].flat());
  if (all.length === 0) return null;
  const failed = all.filter((l) => !l.ok && !l.skip);
  return {
    format: "tap",
    passed: all.filter((l) => l.ok && !l.skip).length,
    failed: failed.length,
    skipped: all.filter((l) => l.skip).length,
    failures: failureIds(failed.map((l) => l.name)),
  };
}

/** Adds up `N word` pairs of a summary line: `{ failed: 1, passed: 2 }`. */
function counts(line: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const m of line.matchAll(/(\d+) ([a-z]+)/gi)) {
    const word = (m[2] ?? "").toLowerCase();
    result[word] = (result[word] ?? 0) + Number(m[1]);
  }
  return result;
}

/** Every capture group 1 of `re` over the lines of `text`. */
function capture(text: string, re: RegExp): string[] {
  return text.split("\n").flatMap((line) => {
    const m = re.exec(line);
    return m?.[1] ? [m[1]] : [];
  });
}

/** pytest's last line, `=== 1 failed, 2 passed in 0.12s ===` (or bare with `-q`), and its `FAILED id - reason` lines. */
function parsePytest(text: string): TestReport | null {
  const summary = text
    .split("\n")
    .reverse()
    .find((l) => /^=*\s*(\d+ (failed|passed|skipped|errors?|xfailed|xpassed|deselected|warnings?)(, )?)+.* in [\d.]+s/.test(l.trim()));
  if (!summary) return null;
  const c = counts(summary);
  return {
    format: "pytest",
    passed: c.passed ?? 0,
    failed: (c.failed ?? 0) + (c.error ?? 0) + (c.errors ?? 0),
    skipped: (c.skipped ?? 0) + (c.xfailed ?? 0),
    failures: failureIds(capture(text, /^(?:FAILED|ERROR) (\S+)/)),
  };
}

/** vitest's ` Tests  1 failed | 2 passed (3)` and its ` FAIL  file > suite > test` lines. */
function parseVitest(text: string): TestReport | null {
  const summary = text.split("\n").find((l) => /^\s*Tests\s+(\d+ \w+( \| )?)+\s*\(\d+\)/.test(l));
  if (!summary) return null;
  const c = counts(summary.replace(/\(\d+\)/, ""));
  return {
    format: "vitest",
    passed: c.passed ?? 0,
    failed: c.failed ?? 0,
    skipped: (c.skipped ?? 0) + (c.todo ?? 0),
    failures: failureIds(capture(text, /^\s*FAIL\s+(.+ > .+?)\s*$/).map((id) => id.replace(/\s+\[[^\]]*\]$/, ""))),
  };
}

/** jest's `Tests:       1 failed, 2 passed, 3 total` and its `● Suite › test` headings. */
function parseJest(text: string): TestReport | null {
  const summary = text.split("\n").find((l) => /^Tests:\s+.*\d+ total/.test(l));
  if (!summary) return null;
  const c = counts(summary);
  const ids = capture(text, /^\s*● (.+)$/).filter((id) => !/^Test suite failed to run/.test(id));
  return {
    format: "jest",
    passed: c.passed ?? 0,
    failed: c.failed ?? 0,
    skipped: (c.skipped ?? 0) + (c.todo ?? 0),
    failures: failureIds(ids),
  };
}

/** cargo's `test result: FAILED. 2 passed; 1 failed; 0 ignored; …` per test binary, and `test path ... FAILED`. */
function parseCargo(text: string): TestReport | null {
  const results = text.split("\n").filter((l) => /^test result: \w+\. \d+ passed; \d+ failed/.test(l));
  if (results.length === 0) return null;
  const c = counts(results.join(" "));
  return {
    format: "cargo",
    passed: c.passed ?? 0,
    failed: c.failed ?? 0,
    skipped: c.ignored ?? 0,
    failures: failureIds(capture(text, /^test (\S+) \.\.\. FAILED$/)),
  };
}

/** unittest's `Ran 3 tests in 0.001s` then `OK` / `FAILED (failures=1, errors=1, skipped=1)`, and `FAIL: name (id)`. */
function parseUnittest(text: string): TestReport | null {
  const lines = text.split("\n");
  const ran = lines.findLastIndex((l) => /^Ran \d+ tests? in /.test(l));
  if (ran < 0) return null;
  const total = Number(/^Ran (\d+)/.exec(lines[ran] ?? "")?.[1] ?? 0);
  const verdict = lines.slice(ran + 1).find((l) => /^(OK|FAILED)\b/.test(l)) ?? "";
  const field = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(verdict)?.[1] ?? 0);
  const failed = field("failures") + field("errors") + field("unexpected successes");
  const skipped = field("skipped") + field("expected failures");
  const ids = capture(text, /^(?:FAIL|ERROR): \S+ \(([^)]+)\)/);
  return { format: "unittest", passed: total - failed - skipped, failed, skipped, failures: failureIds(ids) };
}

/** go test's `--- FAIL: TestName (0.00s)`, `--- PASS:` (with -v), `--- SKIP:` and package `ok`/`FAIL` lines. */
function parseGo(text: string): TestReport | null {
  const lines = text.split("\n");
  if (!lines.some((l) => /^(ok|FAIL|\?)\s+\S+/.test(l) || /^\s*--- (FAIL|PASS|SKIP): /.test(l))) return null;
  // A parent test fails when a subtest does; count the subtest (`TestParse/empty`), not both.
  const all = capture(text, /^\s*--- FAIL: (\S+)/);
  const fails = all.filter((id) => !all.some((other) => other.startsWith(`${id}/`)));
  const passes = lines.filter((l) => /^\s*--- PASS: /.test(l)).length;
  return {
    format: "go",
    passed: passes > 0 || fails.length > 0 ? passes : null,
    failed: fails.length,
    skipped: lines.filter((l) => /^\s*--- SKIP: /.test(l)).length,
    failures: failureIds(fails),
  };
}

/** node:test's spec reporter: `ℹ tests 4`, `ℹ pass 2`, `ℹ fail 2`, `ℹ skipped 0`, and `✖ name (1.2ms)` lines. */
function parseNodeSpec(text: string): TestReport | null {
  const stat = (name: string) => {
    const m = new RegExp(`^ℹ ${name} (\\d+)`, "m").exec(text);
    return m ? Number(m[1]) : null;
  };
  const pass = stat("pass");
  const fail = stat("fail");
  if (pass === null || fail === null) return null;
  // `▶ name` opens a suite; its closing `✖ name` only repeats its children's failures.
  const suites = new Set(capture(text, /^\s*▶ (.+?)(?: \([\d.]+m?s\))?\s*$/));
  const ids = capture(text, /^\s*✖ (.+?) \([\d.]+m?s\)\s*$/).filter((id) => !suites.has(id));
  return {
    format: "node-spec",
    passed: pass,
    failed: fail,
    skipped: (stat("skipped") ?? 0) + (stat("todo") ?? 0),
    failures: failureIds(ids),
  };
}
