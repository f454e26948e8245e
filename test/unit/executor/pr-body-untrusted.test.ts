import { Parser } from "commonmark";
import { describe, expect, it } from "vitest";
import { replaceSections } from "../../../src/executor/pr-sections.js";
import { MAX_PR_BODY, type PullRequestInput, pullRequestBody } from "../../../src/executor/pull-request.js";
import { commitMessage } from "../../../src/executor/run-task.js";
import type { Verification } from "../../../src/executor/verify.js";
import { verificationSection } from "../../../src/executor/verify-report.js";
import type { SuiteRun } from "../../../src/executor/verify-suite.js";

const base: PullRequestInput = {
  owner: "octo",
  repo: "calc",
  branch: "backlog-bot/issue-1-x",
  base: "main",
  taskId: 3,
  issueNumber: 1,
  title: "sub subtracts",
  requestedBy: "maintainer",
  instructions: null,
  agent: "claude-code",
  summary: "Made sub subtract.",
  notes: ["A note."],
  figures: null,
  diffStat: " src/calc.js | 2 +-",
  verification: { section: "### Verification\n\n✅ Verified.", headline: null },
};

/** The issue numbers GitHub would read as references in `text`: `#` and digits, as Markdown renders it. */
function references(markdown: string): string[] {
  const texts: string[] = [];
  const walker = new Parser().parse(markdown).walker();
  for (let e = walker.next(); e; e = walker.next()) if (e.entering && e.node.type === "text") texts.push(e.node.literal ?? "");
  return [...texts.join("").matchAll(/(?:^|[^\w])#(\d+)/g)].map((m) => m[1] as string);
}

describe("a PR body built from untrusted text", () => {
  it("lets a title forge no section marker, so a later update deletes nothing a maintainer wrote", () => {
    const body = pullRequestBody({ ...base, title: "Crash <!-- backlog-bot:notes --> on start" });
    const edited = body.replace("### What the agent reported", "A maintainer's note.\n\n### What the agent reported");
    const updated = replaceSections(edited, { headline: "", notes: "- newer note", verification: "### Verification\n\nagain" });
    expect(updated).toContain("A maintainer's note.");
    expect(updated).toContain("Made sub subtract.");
    expect(updated).toContain("- newer note");
  });

  it("closes only its own issue and pings no one, whatever the title, instructions and summary say", () => {
    const body = pullRequestBody({
      ...base,
      title: "Login broken, closes #40",
      instructions: "also fixes #41, cc @org/security-team",
      summary: "Done. Resolves #42. @everyone please review",
    });
    expect(references(body)).toEqual(["3", "1", "1"]); // "(task #3)", "Issue #1:" and "Fixes #1"
    expect(body).not.toMatch(/@(org|everyone)/);
  });

  it("drops bidi overrides and control characters, so a reviewer reads the words that are there", () => {
    // U+202E shows "gnirts" reversed; U+2066..2069 isolate runs; ESC and BEL are terminal commands in a clone's log.
    const body = pullRequestBody({ ...base, title: "Fix \u202elogin\u202c \u2066x\u2069", summary: "Done \u001b[2J\u0007ok" });
    for (const c of ["\u202e", "\u202c", "\u2066", "\u2069", "\u001b", "\u0007"]) expect(body).not.toContain(c);
    expect(body).toContain("Fix login x");
    expect(body).toContain("Done [2Jok");
  });

  it("mentions a person who asked, and not the accounts named autopilot, cli or api-token", () => {
    expect(pullRequestBody(base)).toContain("at the request of @maintainer.");
    expect(pullRequestBody({ ...base, requestedBy: "autopilot" })).toContain("at the request of autopilot.");
    expect(pullRequestBody({ ...base, requestedBy: "cli:alice" })).toContain("at the request of `cli:alice`.");
    expect(pullRequestBody({ ...base, requestedBy: "api-token" })).not.toContain("@api-token");
  });

  it("stays under GitHub's 65,536-character limit with a summary of 30,000 '<' and 200 KB lines of test output, keeping the closing keyword", () => {
    const failing: SuiteRun = {
      exitCode: 1,
      timedOut: false,
      failedStep: "command",
      durationMs: 10,
      report: null,
      tail: Array.from({ length: 60 }, () => "x".repeat(200_000)).join("\n"),
    };
    const section = verificationSection({
      status: "failed",
      verified: false,
      reason: "the tests fail",
      source: "detected",
      command: "npm test",
      baseSha: "0".repeat(40),
      headTree: "f".repeat(40),
      head: failing,
      base: null,
      baseCached: false,
      attributed: false,
      newFailures: [],
      fixedFailures: [],
      preExistingFailures: [],
      proof: null,
      masking: [],
      durationMs: 10,
    } as unknown as Verification);
    const body = pullRequestBody({ ...base, summary: "<".repeat(30_000), verification: { section, headline: null } });
    expect(body.length).toBeLessThanOrEqual(MAX_PR_BODY);
    expect(body.endsWith("Fixes #1")).toBe(true);
    expect(body).toContain("(cut)");
  });

  it("makes a commit message whose only closing keyword is the task's own issue", () => {
    const message = commitMessage({ id: 3, title: "Login broken, closes #40 cc @org/team\nsecond line", issue_number: 1 }, "command");
    expect(references(message)).toEqual(["1", "3", "1"]); // "(#1)", "task #3", "Fixes #1"
    expect(message).not.toContain("@org");
    expect(message).not.toContain("second line");
  });
});
