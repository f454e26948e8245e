import type { MaskingFlag } from "./masking.js";
import type { VerifyStatus } from "./verify.js";
import type { TestReport } from "./verify-parse.js";
import type { SuiteRun } from "./verify-suite.js";

/**
 * Before against after, as pure functions: which failures are new, which were fixed, which were
 * there already, and whether the change's own tests prove it.
 */

/** What comparing the runs decides. */
export interface Comparison {
  status: VerifyStatus;
  verified: boolean;
  reason: string;
  attributed: boolean;
  newFailures: string[];
  fixedFailures: string[];
  preExistingFailures: string[];
}

/** "Tests that prove the fix": the change's tests run on the base commit. */
export interface Proof {
  /** True only when at least one test failed on the base commit and passes on the change. */
  claimed: boolean;
  /** The tests that failed before and pass after (test ids, or the test files when results were not parsed). */
  tests: string[];
  /** Why it is or is not claimed, for people. */
  reason: string;
}

const passed = (run: SuiteRun) => run.failedStep === null;

/** A report whose failure list names every failing test (not cut, not missing). */
function complete(report: TestReport | null): report is TestReport {
  return report !== null && report.failures.length === report.failed;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * Compares the change's run with the base commit's.
 * @param head - null with `base` null when there is no command (`none`).
 */
export function compareRuns(head: SuiteRun | null, base: SuiteRun | null, masking: readonly MaskingFlag[]): Comparison {
  const empty = { attributed: false, newFailures: [], fixedFailures: [], preExistingFailures: [] };
  if (!head)
    return { ...empty, status: "none", verified: false, reason: "no test command is configured or detected, so nothing was verified" };
  const flagged = masking.length > 0;
  const flaggedReason = `the change may mask tests (${plural(masking.length, "flag")})`;
  const attributed = base !== null && complete(head.report) && complete(base.report) && head.report.format === base.report.format;
  const headIds = new Set(head.report?.failures ?? []);
  const baseIds = new Set(base?.report?.failures ?? []);
  const ids = attributed
    ? {
        newFailures: [...headIds].filter((id) => !baseIds.has(id)),
        fixedFailures: [...baseIds].filter((id) => !headIds.has(id)),
        preExistingFailures: [...headIds].filter((id) => baseIds.has(id)),
      }
    : { newFailures: [], fixedFailures: base && !passed(base) && passed(head) ? [...baseIds] : [], preExistingFailures: [] };
  const result = { ...ids, attributed };
  if (passed(head)) {
    return flagged
      ? { ...result, status: "flagged", verified: false, reason: `the tests pass, but ${flaggedReason}` }
      : { ...result, status: "passed", verified: true, reason: "the tests pass" };
  }
  const why = head.timedOut
    ? "the tests timed out"
    : head.failedStep === "setup"
      ? "the setup command failed"
      : head.exitCode === null
        ? "the test command could not run"
        : null;
  if (why)
    return { ...result, status: flagged ? "flagged" : "failed", verified: false, reason: flagged ? `${why}, and ${flaggedReason}` : why };
  if (attributed && ids.newFailures.length === 0 && head.failedStep === "command" && base && !passed(base)) {
    const reason = `no new failures; ${plural(ids.preExistingFailures.length, "failure")} the base commit has too`;
    return {
      ...result,
      status: flagged ? "flagged" : "no_new_failures",
      verified: false,
      reason: flagged ? `${reason}, but ${flaggedReason}` : reason,
    };
  }
  const reason = attributed
    ? plural(ids.newFailures.length, "new failure")
    : base && !passed(base)
      ? `the tests fail (exit ${head.exitCode}); the base commit fails too, and the failures could not be told apart`
      : `the tests fail (exit ${head.exitCode})${base ? "; they pass on the base commit" : ""}`;
  return {
    ...result,
    status: flagged ? "flagged" : "failed",
    verified: false,
    reason: flagged ? `${reason}, and ${flaggedReason}` : reason,
  };
}

/**
 * Whether the change's tests prove it: they fail on the base commit (beyond what the base already
 * fails) and pass on the change. By test identity when all three runs were parsed; otherwise at the
 * suite level, only when the base passed without the new tests, failed with them, and the change passes.
 */
export function proveFix(runs: { head: SuiteRun; base: SuiteRun; withTests: SuiteRun; tests: readonly string[] }): Proof {
  const { head, base, withTests } = runs;
  if (withTests.failedStep === "setup" || withTests.timedOut || withTests.exitCode === null) {
    return { claimed: false, tests: [], reason: "the changed tests could not be run on the base commit" };
  }
  if (complete(head.report) && complete(base.report) && complete(withTests.report) && !head.timedOut && head.failedStep !== "setup") {
    const before = new Set(base.report.failures);
    const after = new Set(head.report.failures);
    const failsBefore = withTests.report.failures.filter((id) => !before.has(id));
    const proven = failsBefore.filter((id) => !after.has(id));
    if (proven.length > 0)
      return {
        claimed: true,
        tests: proven,
        reason:
          proven.length === 1
            ? "1 test fails before the change and passes after it"
            : `${proven.length} tests fail before the change and pass after it`,
      };
    if (failsBefore.length > 0)
      return { claimed: false, tests: [], reason: "the changed tests fail on the base commit, but they fail after the change too" };
    return { claimed: false, tests: [], reason: "the added or changed tests already pass on the base commit, so they do not show the fix" };
  }
  if (passed(base) && !passed(withTests) && passed(head)) {
    return {
      claimed: true,
      tests: [...runs.tests],
      reason: "the suite fails on the base commit with the change's tests and passes with the change",
    };
  }
  return {
    claimed: false,
    tests: [],
    reason: passed(withTests)
      ? "the added or changed tests already pass on the base commit"
      : "the results could not show which tests failed before",
  };
}
