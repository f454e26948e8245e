import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseJUnit } from "../../../src/executor/verify-junit.js";
import { MAX_FAILURE_IDS, parseTap, parseTestOutput } from "../../../src/executor/verify-parse.js";

/** Outputs captured from the real runners (go and jest written after their documented formats; neither is installed here). */
const output = (name: string) => readFileSync(path.join(import.meta.dirname, "../../fixtures/test-output", name), "utf8");

describe("parseTestOutput", () => {
  it("reads node:test's TAP, counting leaves only and naming nested tests by their suite", () => {
    expect(parseTestOutput(output("node-tap.txt"))).toEqual({
      format: "tap",
      passed: 2,
      failed: 2,
      skipped: 0,
      failures: ["group > inner bad", "subtracts"],
    });
  });

  it("reads vitest's summary and FAIL lines", () => {
    expect(parseTestOutput(output("vitest.txt"))).toEqual({
      format: "vitest",
      passed: 1,
      failed: 2,
      skipped: 1,
      failures: ["a.test.ts > math > subtracts", "a.test.ts > top level fails"],
    });
  });

  it("reads jest's summary and ● headings", () => {
    expect(parseTestOutput(output("jest.txt"))).toEqual({
      format: "jest",
      passed: 1,
      failed: 1,
      skipped: 1,
      failures: ["calc › subtracts"],
    });
  });

  it("reads pytest's summary line, with and without -q", () => {
    const expected = {
      format: "pytest",
      passed: 1,
      failed: 2,
      skipped: 1,
      failures: ["tests/test_x.py::test_b", "tests/test_x.py::test_d"],
    };
    expect(parseTestOutput(output("pytest.txt"))).toEqual(expected);
    expect(parseTestOutput(output("pytest-q.txt"))).toEqual(expected);
  });

  it("reads unittest's Ran/FAILED lines and FAIL:/ERROR: ids", () => {
    expect(parseTestOutput(output("unittest.txt"))).toEqual({
      format: "unittest",
      passed: 1,
      failed: 2,
      skipped: 1,
      failures: ["tests.test_u.T.test_b", "tests.test_u.T.test_d"],
    });
  });

  it("reads cargo test's result lines", () => {
    expect(parseTestOutput(output("cargo.txt"))).toEqual({ format: "cargo", passed: 1, failed: 1, skipped: 1, failures: ["tests::fails"] });
  });

  it("reads go test's --- FAIL lines, counting a failed subtest and not its parent", () => {
    expect(parseTestOutput(output("go.txt"))).toEqual({
      format: "go",
      passed: 0,
      failed: 2,
      skipped: 0,
      failures: ["TestParse/empty", "TestSub"],
    });
  });

  it("reads node:test's spec reporter without counting a suite as a failed test", () => {
    expect(parseTestOutput(output("node-spec.txt"))).toEqual({
      format: "node-spec",
      passed: 2,
      failed: 2,
      skipped: 0,
      failures: ["inner bad", "subtracts"],
    });
  });

  it("returns null for output in no known format, and ignores colour codes", () => {
    expect(parseTestOutput("make: *** [test] Error 1\nSomething went wrong\n")).toBeNull();
    expect(parseTestOutput("\u001b[31m Tests \u001b[39m 1 failed | 3 passed (4)\n")?.failed).toBe(1);
  });

  it("treats TAP SKIP and TODO directives as skipped, and ignores YAML blocks", () => {
    const tap = [
      "TAP version 14",
      "ok 1 - a",
      "not ok 2 - b # SKIP no db",
      "not ok 3 - c # TODO later",
      "not ok 4 - d",
      "  ---",
      "  message: 'ok 9 - not a test'",
      "  ...",
      "1..4",
    ];
    expect(parseTap(tap.join("\n"))).toEqual({ format: "tap", passed: 1, failed: 1, skipped: 2, failures: ["d"] });
  });

  it("caps the failure ids it keeps", () => {
    const tap = ["TAP version 13", ...Array.from({ length: MAX_FAILURE_IDS + 20 }, (_, i) => `not ok ${i + 1} - t${i}`)];
    const report = parseTap(tap.join("\n"));
    expect(report?.failed).toBe(MAX_FAILURE_IDS + 20);
    expect(report?.failures).toHaveLength(MAX_FAILURE_IDS);
  });
});

describe("parseJUnit", () => {
  it("reads node:test's report, nested suites included", () => {
    expect(parseJUnit([output("node-junit.xml")])).toEqual({
      format: "junit",
      passed: 2,
      failed: 2,
      skipped: 0,
      failures: ["group > test > inner bad", "test > subtracts"],
    });
  });

  it("reads pytest's and vitest's reports", () => {
    expect(parseJUnit([output("pytest-junit.xml")])).toEqual({
      format: "junit",
      passed: 1,
      failed: 2,
      skipped: 1,
      failures: ["pytest > tests.test_x > test_b", "pytest > tests.test_x > test_d"],
    });
    expect(parseJUnit([output("vitest-junit.xml")])).toMatchObject({
      passed: 1,
      failed: 2,
      skipped: 1,
      failures: ["a.test.ts > math > subtracts", "a.test.ts > top level fails"],
    });
  });

  it("adds up several documents (Maven Surefire writes one per class) and counts <error> as failed", () => {
    const doc = (cls: string, body: string) =>
      `<?xml version="1.0"?><testsuite name="${cls}"><testcase classname="${cls}" name="t1"/>${body}</testsuite>`;
    const report = parseJUnit([
      doc("a.ATest", '<testcase classname="a.ATest" name="t2"><error message="npe"/></testcase>'),
      doc("b.BTest", ""),
    ]);
    expect(report).toEqual({ format: "junit", passed: 2, failed: 1, skipped: 0, failures: ["a.ATest > t2"] });
  });

  it("returns null for malformed or empty documents", () => {
    expect(parseJUnit(["<testsuites><testsuite"])).toBeNull();
    expect(parseJUnit(["<testsuites/>", "not xml at all"])).toBeNull();
  });
});
