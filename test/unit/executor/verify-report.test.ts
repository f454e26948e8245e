import { describe, expect, it } from "vitest";
import type { Verification } from "../../../src/executor/verify.js";
import { checkConclusion, verificationLine, verificationSection, verifyCheckRunOutput } from "../../../src/executor/verify-report.js";
import type { SuiteRun } from "../../../src/executor/verify-suite.js";

const suite = (failures: string[], tail = ""): SuiteRun => ({
  exitCode: failures.length ? 1 : 0,
  timedOut: false,
  failedStep: failures.length ? "command" : null,
  durationMs: 2345,
  report: { format: "junit", passed: 4, failed: failures.length, skipped: 0, failures },
  tail,
});

function verification(overrides: Partial<Verification>): Verification {
  return {
    status: "passed",
    verified: true,
    reason: "the tests pass",
    source: "detected",
    command: "npm test",
    baseSha: "0123456789abcdef0123",
    headTree: "f".repeat(40),
    head: suite([]),
    base: suite(["sub"]),
    baseCached: true,
    attributed: true,
    newFailures: [],
    fixedFailures: ["sub"],
    preExistingFailures: [],
    proof: { claimed: true, tests: ["sub below zero"], reason: "1 test fails before the change and passes after it" },
    masking: [],
    durationMs: 5000,
    ...overrides,
  };
}

describe("verification text", () => {
  it("states a verified change in one line, with the base, the fix and the proof", () => {
    const v = verification({});
    expect(verificationLine(v)).toBe("✅ Verified: `npm test` — the tests pass (4 passed, 0 failed, exit 0, 2.3 s).");
    expect(verificationSection(v)).toBe(
      [
        "### Verification",
        "",
        "✅ Verified: `npm test` — the tests pass (4 passed, 0 failed, exit 0, 2.3 s).",
        "",
        "- Base commit `0123456789ab`: 4 passed, 1 failed, exit 1 (cached result).",
        "- Fixed: `sub`.",
        "- **Fails before, passes after:** `sub below zero` — 1 test fails before the change and passes after it.",
      ].join("\n"),
    );
    expect(checkConclusion(v)).toBe("success");
  });

  it("lists new and pre-existing failures apart, and shows the output tail in a fence that cannot be closed", () => {
    const v = verification({
      status: "failed",
      verified: false,
      reason: "1 new failure",
      head: suite(["add", "sub"], "not ok 1 - add\n```\n<script>alert(1)</script>"),
      newFailures: ["add"],
      fixedFailures: [],
      preExistingFailures: ["sub"],
      proof: null,
    });
    const text = verificationSection(v);
    expect(text).toContain("❌ Not verified: `npm test` — 1 new failure (4 passed, 2 failed, exit 1, 2.3 s).");
    expect(text).toContain("- New failures: `add`.");
    expect(text).toContain("- Failing before this change too (not caused by it): `sub`.");
    expect(text.match(/```/g)).toHaveLength(2); // only our own fence
    expect(checkConclusion(v)).toBe("failure");
  });

  it("says what the anti-masking guard flagged, with untrusted text as inert code", () => {
    const v = verification({
      status: "flagged",
      verified: false,
      reason: "the tests pass, but the change may mask tests (1 flag)",
      masking: [{ kind: "skip-marker", path: "test/a.test.js", line: 7, detail: 'it.skip("sub`), () => {' }],
    });
    const text = verificationSection(v);
    expect(text).toContain("🚩 Not verified:");
    expect(text).toContain("- **Flagged by the anti-masking guard** (so not verified):");
    expect(text).toContain('  - skip-marker in `test/a.test.js:7`: `it.skip("subˋ), () => {`');
    expect(checkConclusion(v)).toBe("failure");
  });

  it("says plainly when nothing was verified, and the check run is neutral", () => {
    const v = verification({
      status: "none",
      verified: false,
      source: "none",
      command: "none",
      head: null,
      base: null,
      proof: null,
      fixedFailures: [],
    });
    expect(verificationSection(v)).toBe(
      "### Verification\n\n➖ Not verified: no test command is configured or detected (set `verify.command` in `.github/backlog-bot.yml`).",
    );
    expect(verifyCheckRunOutput(v)).toMatchObject({ conclusion: "neutral", text: "Command: `none`\n\n_No output._" });
  });

  it("builds check run output within GitHub's limits, the title being the same line", () => {
    const long = Array.from({ length: 5000 }, (_, i) => `line ${i} ${"x".repeat(30)}`).join("\n");
    const v = verification({ status: "failed", verified: false, reason: "1 new failure", head: suite(["a"], long), newFailures: ["a"] });
    const out = verifyCheckRunOutput(v);
    expect(out.title).toBe("❌ Not verified: npm test — 1 new failure (4 passed, 1 failed, exit 1, 2.3 s).");
    expect(out.summary.length).toBeLessThanOrEqual(65_535);
    expect(out.text.length).toBeLessThanOrEqual(65_535);
    expect(out.summary).toContain("Duration of the whole verification: 5.0 s.");
  });
});
