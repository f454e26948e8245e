import { describe, expect, it } from "vitest";
import { contentHash, normalizeCheckOutput } from "../../../src/prioritizer/content-hash.js";

const SHA_A = "3f9c2e1ab4d5c6e7f8091a2b3c4d5e6f7a8b9c0d";
const SHA_B = "1234567890123456789012345678901234567890"; // all digits: only the headSha rule knows it is a commit

/** A vitest failure as the tail of a GitHub Actions job log (timestamps already stripped by logExcerpt). */
function log(opts: { sha: string; test?: string; error?: string; duration: string; start: string; temp: string }): string {
  return [
    `HEAD is now at ${opts.sha.slice(0, 7)} Merge pull request #12 from octo/feature`,
    ` FAIL  test/parser.test.ts > ${opts.test ?? "parses nested lists"}`,
    `AssertionError: ${opts.error ?? "expected [] to deeply equal [ 1 ]"}`,
    " ❯ test/parser.test.ts:14:22",
    " Test Files  1 failed | 6 passed (7)",
    `   Start at  ${opts.start}`,
    `   Duration  ${opts.duration} (transform 20ms, setup 0ms, collect 310ms, tests 1.02s)`,
    "##[error]Process completed with exit code 1.",
    "Post job cleanup.",
    `Temporarily overriding HOME='/home/runner/work/_temp/${opts.temp}' before making global git config changes`,
  ].join("\n");
}

function check(sha: string, logExcerpt: string, annotations = ["test/parser.test.ts:14: failure: expected [] to deeply equal [ 1 ]"]) {
  return {
    kind: "failing_check",
    title: "Failing check: test (20.x)",
    body: `failure on main at ${sha.slice(0, 7)}`,
    signals: JSON.stringify({ checkName: "test (20.x)", headSha: sha, conclusion: "failure", annotations, logExcerpt }),
  };
}

describe("contentHash of a failing check", () => {
  const atA = log({ sha: SHA_A, duration: "2.31s", start: "10:03:01", temp: "4e3b0f2a-9c1d-4f5e-8a7b-0c1d2e3f4a5b" });
  const atB = log({ sha: SHA_B, duration: "2.87s", start: "14:20:45", temp: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d" });

  it("is the same when the same failure happens at another commit (body, log and run noise differ)", () => {
    expect(contentHash(check(SHA_A, atA))).toBe(contentHash(check(SHA_B, atB)));
  });

  it("changes when another test fails, the error line changes, or the annotations change", () => {
    const base = contentHash(check(SHA_A, atA));
    const otherTest = log({ sha: SHA_B, test: "parses empty lists", duration: "2.87s", start: "14:20:45", temp: "x" });
    const otherError = log({ sha: SHA_B, error: "expected [] to deeply equal [ 2 ]", duration: "2.87s", start: "14:20:45", temp: "x" });
    expect(contentHash(check(SHA_B, otherTest))).not.toBe(base);
    expect(contentHash(check(SHA_B, otherError))).not.toBe(base);
    expect(contentHash(check(SHA_B, atB, ["src/parser.ts:40: failure: cannot read properties of undefined"]))).not.toBe(base);
    // Another conclusion is another failure too.
    expect(contentHash({ ...check(SHA_B, atB), body: `timed_out on main at ${SHA_B.slice(0, 7)}` })).not.toBe(base);
  });

  it("keeps what tells failures apart: names, messages, paths, line numbers, counts, words that look like hex", () => {
    const text = "FAIL decode > accepts 1234 bytes at src/a.ts:14:22 (defaced cafe) 3 failed";
    expect(normalizeCheckOutput(text, SHA_A)).toBe(text);
    expect(normalizeCheckOutput(`at ${SHA_A} / ${SHA_A.slice(0, 9)} in 35 ms`, SHA_A)).toBe("at <sha> / <sha> in <duration>");
  });
});

describe("contentHash of other findings", () => {
  it("keeps a stale issue's hash as days pass (its body is only its age), and changes it with the title", () => {
    const stale = (body: string, title = "Stale: Crash on start (#7)") => contentHash({ kind: "stale_issue", title, body, signals: "{}" });
    const today = stale("Open for 90 days; no activity for 40 days.");
    expect(stale("Open for 91 days; no activity for 41 days.")).toBe(today);
    expect(stale("Open for 91 days; no activity for 41 days.", "Stale: Crash on start with an empty config (#7)")).not.toBe(today);
  });

  it("still hashes a TODO's body as it is (a hex-looking word in it is content)", () => {
    const todo = { kind: "todo", title: "TODO: drop the shim", body: "see 3f9c2e1", signals: "{}" };
    expect(contentHash(todo)).not.toBe(contentHash({ ...todo, body: "see 9a8b7c6" }));
  });
});
