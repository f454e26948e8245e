import { describe, expect, it } from "vitest";
import type { MaskingFlag } from "../../../src/executor/masking.js";
import { compareRuns, proveFix } from "../../../src/executor/verify-compare.js";
import type { SuiteRun } from "../../../src/executor/verify-suite.js";

/** A finished run of a parsed suite failing `failures` out of `total`. */
function run(failures: string[], total = 5, extra: Partial<SuiteRun> = {}): SuiteRun {
  return {
    exitCode: failures.length ? 1 : 0,
    timedOut: false,
    failedStep: failures.length ? "command" : null,
    durationMs: 100,
    report: { format: "tap", passed: total - failures.length, failed: failures.length, skipped: 0, failures },
    tail: "",
    ...extra,
  };
}

/** A run whose output could not be parsed. */
const raw = (exitCode: number): SuiteRun => ({
  exitCode,
  timedOut: false,
  failedStep: exitCode ? "command" : null,
  durationMs: 1,
  report: null,
  tail: "",
});

const FLAG: MaskingFlag = { kind: "skip-marker", path: "t.test.js", line: 3, detail: "it.skip(" };

describe("compareRuns", () => {
  it("verifies a passing change and lists what it fixed", () => {
    expect(compareRuns(run([]), run(["sub"]), [])).toEqual({
      status: "passed",
      verified: true,
      reason: "the tests pass",
      attributed: true,
      newFailures: [],
      fixedFailures: ["sub"],
      preExistingFailures: [],
    });
  });

  it("tells new failures from pre-existing ones", () => {
    const c = compareRuns(run(["add", "sub"]), run(["sub", "mul"]), []);
    expect(c).toMatchObject({
      status: "failed",
      verified: false,
      reason: "1 new failure",
      newFailures: ["add"],
      fixedFailures: ["mul"],
      preExistingFailures: ["sub"],
    });
  });

  it("does not blame the change for the base commit's failures", () => {
    expect(compareRuns(run(["sub"]), run(["sub"]), [])).toMatchObject({
      status: "no_new_failures",
      verified: false,
      preExistingFailures: ["sub"],
    });
  });

  it("never verifies a flagged change, even when the tests pass", () => {
    expect(compareRuns(run([]), run(["sub"]), [FLAG])).toMatchObject({
      status: "flagged",
      verified: false,
      reason: "the tests pass, but the change may mask tests (1 flag)",
    });
    expect(compareRuns(run(["sub"]), run(["sub"]), [FLAG]).status).toBe("flagged");
  });

  it("falls back to exit codes when the output was not parsed, and says the failures could not be told apart", () => {
    expect(compareRuns(raw(1), raw(0), [])).toMatchObject({
      status: "failed",
      attributed: false,
      reason: "the tests fail (exit 1); they pass on the base commit",
    });
    expect(compareRuns(raw(1), raw(1), []).reason).toMatch(/base commit fails too, and the failures could not be told apart/);
    expect(compareRuns(raw(0), raw(1), [])).toMatchObject({ status: "passed", verified: true });
  });

  it("does not attribute by ids when a report's failure list is incomplete", () => {
    const cut = run(["a"], 10, { report: { format: "vitest", passed: 5, failed: 3, skipped: 0, failures: ["a"] } });
    expect(compareRuns(cut, run(["a"]), []).attributed).toBe(false);
  });

  it("names timeouts, failed setups and commands that could not start", () => {
    expect(compareRuns(run(["x"], 5, { timedOut: true, exitCode: null }), run([]), []).reason).toBe("the tests timed out");
    expect(compareRuns(raw(1), run([]), []).status).toBe("failed");
    expect(compareRuns({ ...raw(1), failedStep: "setup" }, run([]), []).reason).toBe("the setup command failed");
    expect(compareRuns({ ...raw(1), exitCode: null }, run([]), []).reason).toBe("the test command could not run");
  });

  it("says 'none' plainly when there was nothing to run", () => {
    expect(compareRuns(null, null, [])).toMatchObject({ status: "none", verified: false });
  });
});

describe("proveFix", () => {
  it("claims tests that fail on the base commit and pass after the change", () => {
    const proof = proveFix({ head: run([]), base: run(["sub"]), withTests: run(["sub", "sub negative"]), tests: ["test/sub.test.js"] });
    expect(proof).toEqual({ claimed: true, tests: ["sub negative"], reason: "1 test fails before the change and passes after it" });
  });

  it("does not claim tests that already pass on the base commit", () => {
    const proof = proveFix({ head: run([]), base: run(["sub"]), withTests: run(["sub"]), tests: ["test/add.test.js"] });
    expect(proof.claimed).toBe(false);
    expect(proof.reason).toMatch(/already pass on the base commit/);
  });

  it("does not claim tests that still fail after the change", () => {
    const proof = proveFix({ head: run(["sub negative"]), base: run([]), withTests: run(["sub negative"]), tests: ["t"] });
    expect(proof).toMatchObject({ claimed: false, reason: expect.stringMatching(/fail after the change too/) });
  });

  it("claims at the suite level only when the base passed alone, failed with the tests, and the change passes", () => {
    expect(proveFix({ head: raw(0), base: raw(0), withTests: raw(1), tests: ["t.test.js"] })).toMatchObject({
      claimed: true,
      tests: ["t.test.js"],
    });
    expect(proveFix({ head: raw(0), base: raw(1), withTests: raw(1), tests: ["t.test.js"] }).claimed).toBe(false);
    expect(proveFix({ head: raw(0), base: raw(0), withTests: { ...raw(1), timedOut: true }, tests: ["t"] }).claimed).toBe(false);
  });
});
