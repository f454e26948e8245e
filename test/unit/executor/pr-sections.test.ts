import { describe, expect, it } from "vitest";
import { markSection, replaceSections } from "../../../src/executor/pr-sections.js";
import { pullRequestBody } from "../../../src/executor/pull-request.js";

const first = pullRequestBody({
  owner: "octo",
  repo: "calc",
  branch: "backlog-bot/issue-1-sub",
  base: "main",
  taskId: 3,
  issueNumber: 1,
  title: "sub subtracts",
  requestedBy: "maintainer",
  instructions: null,
  agent: "claude-code",
  summary: "Made sub subtract.",
  notes: ["Verification took 2 rounds (round 1: failed, round 2: failed)."],
  figures: null,
  diffStat: " src/calc.js | 2 +-",
  verification: {
    section: "### Verification\n\n❌ Not verified: `npm test` — 1 new failure.",
    headline: "> [!WARNING]\n> **The repository's tests do not pass with this change:** 1 new failure.",
  },
});

describe("the bot's marked sections of a PR body", () => {
  it("replaces the warning, notes and Verification section and keeps what a person added elsewhere", () => {
    const edited = first.replace("### What was asked", "Reviewer's note: please also check negatives.\n\n### What was asked");
    const body = replaceSections(`${edited}\n\nA line a person appended.`, {
      headline: "",
      notes: "- Latest follow-up, after a review.",
      verification: "### Verification\n\n✅ Verified: `npm test` — all tests pass.",
    });
    expect(body).toContain("✅ Verified: `npm test` — all tests pass.");
    expect(body).not.toContain("❌ Not verified");
    expect(body).not.toContain("[!WARNING]");
    expect(body).not.toContain("Verification took 2 rounds");
    expect(body).toContain("- Latest follow-up, after a review.");
    expect(body).toContain("Reviewer's note: please also check negatives.");
    expect(body.endsWith("A line a person appended.")).toBe(true);
    expect(body).toContain("Fixes #1");
    // Still marked: the next follow-up finds its sections again.
    expect(replaceSections(body, { headline: "> [!WARNING]\n> again" })).toMatch(
      /^<!-- backlog-bot:headline -->\n\n> \[!WARNING\]\n> again/,
    );
  });

  it("adds a section whose markers a person removed, and leaves a body with nothing to change as it is", () => {
    expect(replaceSections("Only human text.", { verification: "### Verification\n\nnew", headline: "" })).toBe(
      `Only human text.\n\n${markSection("verification", "### Verification\n\nnew")}\n`,
    );
    expect(replaceSections("Only human text.", { headline: "> warn" })).toBe(`${markSection("headline", "> warn")}\n\nOnly human text.`);
    expect(replaceSections(first, { notes: "- Verification took 2 rounds (round 1: failed, round 2: failed)." })).toBe(first);
  });

  it("never lets content forge or close a marker", () => {
    const section = markSection("notes", "- a <!-- /backlog-bot:notes --> b <!-- backlog-bot:verification -->");
    expect(section.match(/backlog-bot:/g)).toHaveLength(2);
    expect(section).toContain("- a  b\n");
  });
});
