import { describe, expect, it } from "vitest";
import {
  decideFollowUp,
  type FollowUpContext,
  type FollowUpRecord,
  followUpSummary,
  outcomeSignature,
} from "../../../src/executor/follow-up.js";
import type { Verification } from "../../../src/executor/verify.js";

const writer = { login: "maintainer", isBot: false, canWrite: true };
/** An open PR of the bot's whose head is `headSha`. */
const open = (headSha: string) => ({ open: true, merged: false, openedByBot: true, headSha });
const ctx = (over: Partial<FollowUpContext> = {}): FollowUpContext => ({
  pr: open("abc"),
  actor: writer,
  allowedBots: [],
  max: 3,
  done: [],
  summaryPosted: false,
  ...over,
});
const review = { type: "review" as const, reviewId: 1, state: "changes_requested" as const };
const ci = (headSha: string) => ({ type: "ci" as const, checkName: "test", headSha });
const record = (outcome: string, over: Partial<FollowUpRecord> = {}): FollowUpRecord => ({
  trigger: "review",
  headSha: "a".repeat(40),
  checkName: null,
  outcome,
  ...over,
});

describe("decideFollowUp", () => {
  it("starts one for a writer's review asking for changes, a writer's comment, and red CI", () => {
    expect(decideFollowUp(review, ctx())).toEqual({ start: true });
    expect(decideFollowUp({ type: "comment" }, ctx())).toEqual({ start: true });
    expect(decideFollowUp(ci("abc"), ctx({ actor: null }))).toEqual({ start: true });
  });

  it("ignores readers, bots not in allowedBots, approvals, and PRs that are merged, closed or not the bot's", () => {
    expect(decideFollowUp(review, ctx({ actor: { ...writer, canWrite: false } }))).toMatchObject({
      start: false,
      reason: "maintainer has no write access",
    });
    expect(decideFollowUp(review, ctx({ actor: { login: "lint-bot[bot]", isBot: true, canWrite: true } }))).toMatchObject({ start: false });
    expect(
      decideFollowUp(review, ctx({ actor: { login: "lint-bot[bot]", isBot: true, canWrite: true }, allowedBots: ["Lint-Bot[bot]"] })),
    ).toEqual({ start: true });
    // As the permission gate names bots (guards.ts isAllowedBot): without the [bot] suffix too.
    expect(
      decideFollowUp(review, ctx({ actor: { login: "lint-bot[bot]", isBot: true, canWrite: true }, allowedBots: ["lint-bot"] })),
    ).toEqual({ start: true });
    expect(decideFollowUp({ ...review, state: "approved" }, ctx())).toMatchObject({ start: false });
    expect(decideFollowUp(review, ctx({ pr: { ...open("abc"), open: false, merged: true } }))).toMatchObject({ start: false });
    expect(decideFollowUp(review, ctx({ pr: { ...open("abc"), openedByBot: false } }))).toMatchObject({ start: false });
  });

  it("follows up one CI failure per head once", () => {
    const done = [record("failed:[]", { trigger: "ci", headSha: "h1", checkName: "test" })];
    expect(decideFollowUp(ci("h1"), ctx({ done, pr: open("h1") }))).toMatchObject({
      start: false,
      reason: "the failure of test on this head was followed up already",
      postSummary: false,
    });
    expect(decideFollowUp(ci("h2"), ctx({ done, pr: open("h2") }))).toEqual({ start: true });
  });

  it("skips red CI on a head that is no longer the pull request's: its result is stale", () => {
    // Checks lint and test failed on A; the round for lint pushed B; the queued test-on-A job runs now.
    const a = "a".repeat(40);
    const b = "b".repeat(40);
    const done = [record("passed:[]", { trigger: "ci", headSha: a, checkName: "lint" })];
    const stale = decideFollowUp({ type: "ci", checkName: "test", headSha: a }, ctx({ done, actor: null, pr: open(b) }));
    expect(stale).toEqual({
      start: false,
      reason: "the failure of test is on aaaaaaa, no longer the pull request's head (bbbbbbb): its result is stale",
      postSummary: false,
    });
    expect(decideFollowUp({ type: "ci", checkName: "test", headSha: b }, ctx({ done, actor: null, pr: open(b) }))).toEqual({
      start: true,
    });
  });

  it("stops at followUps.max, after a follow-up with no change, or with the same failures twice, and asks for the summary once", () => {
    const three = [record('failed:["a"]'), record('failed:["b"]'), record('failed:["c"]')];
    expect(decideFollowUp(review, ctx({ done: three }))).toEqual({
      start: false,
      reason: "the pull request had its 3 follow-up(s) (`followUps.max`)",
      postSummary: true,
    });
    expect(decideFollowUp(review, ctx({ done: three, summaryPosted: true }))).toMatchObject({ postSummary: false });
    expect(decideFollowUp(review, ctx({ done: [record("no_changes")] }))).toMatchObject({
      start: false,
      reason: "the last follow-up changed nothing",
    });
    const same = [record('failed:["x"]'), record('failed:["x"]')];
    expect(decideFollowUp(ci("new"), ctx({ done: same, pr: open("new") }))).toMatchObject({
      start: false,
      reason: "the last follow-up ended with the same failures",
      postSummary: true,
    });
    expect(decideFollowUp(review, ctx({ done: [record("passed:[]"), record("passed:[]")] }))).toEqual({ start: true });
  });

  it("past a stop, starts one round per `/agent fix` of a person with write access (never a bot's), within dailyRunLimit", () => {
    const three = [record('failed:["a"]'), record('failed:["b"]'), record('failed:["c"]')];
    const comment = { type: "comment" as const };
    expect(decideFollowUp(comment, ctx({ done: three, summaryPosted: true }))).toEqual({ start: true });
    expect(decideFollowUp(comment, ctx({ done: [...three, record("passed:[]")], summaryPosted: true }))).toEqual({ start: true });
    expect(decideFollowUp(comment, ctx({ done: [record("no_changes")] }))).toEqual({ start: true });
    // Reviews and CI stay stopped; an allowed bot's comment too; a reader's never counted.
    expect(decideFollowUp(review, ctx({ done: [...three, record("passed:[]")], summaryPosted: true }))).toMatchObject({ start: false });
    expect(decideFollowUp(ci("new"), ctx({ done: three, actor: null }))).toMatchObject({ start: false });
    const bot = { login: "fix-bot[bot]", isBot: true, canWrite: true };
    expect(decideFollowUp(comment, ctx({ done: three, actor: bot, allowedBots: ["fix-bot[bot]"] }))).toMatchObject({
      start: false,
      reason: "the pull request had its 3 follow-up(s) (`followUps.max`)",
    });
    expect(decideFollowUp(comment, ctx({ done: three, actor: { ...writer, canWrite: false } }))).toMatchObject({ start: false });
    expect(decideFollowUp(comment, ctx({ done: three, runLimit: "agents ran 20 times" }))).toMatchObject({
      start: false,
      reason: expect.stringContaining("agents ran 20 times"),
      held: true,
    });
  });

  it("holds back a review's, red CI's or a comment's round within followUps.max when dailyRunLimit is reached", () => {
    const runLimit = "agents ran 20 times here in the last 24 hours (`dailyRunLimit`: 20)";
    const heldBack = {
      start: false,
      reason: `the repository's daily run limit is reached: ${runLimit}`,
      postSummary: false,
      held: true,
    };
    expect(decideFollowUp(review, ctx({ runLimit }))).toEqual(heldBack);
    expect(decideFollowUp(ci("abc"), ctx({ actor: null, runLimit }))).toEqual(heldBack);
    expect(decideFollowUp({ type: "comment" }, ctx({ runLimit }))).toEqual(heldBack);
    const one = [record('failed:["a"]', { trigger: "ci", headSha: "old", checkName: "test" })];
    expect(decideFollowUp(ci("abc"), ctx({ actor: null, done: one, runLimit }))).toEqual(heldBack);
    // What starts nothing anyway is not a hold: no note about the limit for it.
    expect(decideFollowUp({ ...review, state: "approved" }, ctx({ runLimit }))).not.toHaveProperty("held");
    expect(decideFollowUp(ci("old"), ctx({ actor: null, runLimit }))).not.toHaveProperty("held");
    // Once the limit allows, the same triggers start rounds: a hold records nothing.
    expect(decideFollowUp(review, ctx({ runLimit: null }))).toEqual({ start: true });
    expect(decideFollowUp(ci("abc"), ctx({ actor: null, done: one }))).toEqual({ start: true });
  });

  it("judges the stop rules on rounds that ran to an end: a cancelled or interrupted round is no evidence, but counts to the bound", () => {
    expect(decideFollowUp(review, ctx({ done: [record("cancelled")] }))).toEqual({ start: true });
    expect(decideFollowUp(review, ctx({ done: [record("interrupted"), record("interrupted")] }))).toEqual({ start: true });
    expect(
      decideFollowUp(review, ctx({ done: [record('failed:["x"]'), record("cancelled"), record('failed:["x"]')], max: 5 })),
    ).toMatchObject({
      start: false,
      reason: "the last follow-up ended with the same failures",
    });
    expect(decideFollowUp(review, ctx({ done: [record("no_changes"), record("interrupted")] }))).toMatchObject({
      start: false,
      reason: "the last follow-up changed nothing",
    });
    expect(decideFollowUp(review, ctx({ done: [record("cancelled"), record("cancelled"), record("cancelled")] }))).toMatchObject({
      start: false,
      reason: "the pull request had its 3 follow-up(s) (`followUps.max`)",
    });
  });
});

describe("follow-up summary", () => {
  it("says what was tried, what still fails and what a person decides", () => {
    const last = {
      status: "failed",
      verified: false,
      reason: "1 new failure",
      command: "npm test",
      head: { exitCode: 1, timedOut: false, failedStep: "command", durationMs: 1000, report: null, tail: "" },
    } as unknown as Verification;
    const text = followUpSummary(
      [record("failed:[]", { trigger: "ci", checkName: "build", headSha: "1234567abc" }), record("no_changes")],
      "the last follow-up changed nothing",
      last,
    );
    expect(text).toContain("backlog-bot stops following up on this pull request: the last follow-up changed nothing.");
    expect(text).toContain("1. after red CI (build) on `1234567`: failed");
    expect(text).toContain("2. after a review on `aaaaaaa`: no change");
    expect(text).toContain("❌ Not verified: `npm test` — 1 new failure (exit 1, 1.0 s).");
    expect(text).toContain("**What a person needs to decide**");
    expect(text).toContain(
      "each `/agent fix <instructions>` that a person with write access comments on this pull request starts one more",
    );
  });

  it("signs outcomes so two follow-ups compare", () => {
    expect(outcomeSignature(null, false)).toBe("no_changes");
    const v = { status: "failed", head: { report: { failures: ["b", "a"] } } } as unknown as Verification;
    expect(outcomeSignature(v, true)).toBe('failed:["a","b"]');
  });
});
