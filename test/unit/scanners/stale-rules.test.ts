import { describe, expect, it } from "vitest";
import { type StaleConfig, staleConfigSchema } from "../../../src/config/schema.js";
import { cleanLabel, staleVerdict } from "../../../src/scanners/stale.js";
import type { IssueSnapshot } from "../../../src/store/issue-snapshots.js";

const DAY = 24 * 60 * 60 * 1000;
const now = new Date("2026-06-01T12:00:00Z");
const config = (patch: Partial<StaleConfig> = {}): StaleConfig => staleConfigSchema.parse(patch);
const issue = (idleDays: number, patch: Partial<IssueSnapshot> = {}): IssueSnapshot => ({
  number: 1,
  title: "t",
  url: "https://github.com/o/r/issues/1",
  author: "a",
  createdAt: new Date(now.getTime() - 400 * DAY).toISOString(),
  updatedAt: new Date(now.getTime() - idleDays * DAY).toISOString(),
  labels: [],
  assignees: [],
  milestone: null,
  reactions: 0,
  comments: 0,
  ...patch,
});

// Each case restates a rule of actions/stale's README (https://github.com/actions/stale#list-of-input-options).
describe("staleVerdict follows actions/stale", () => {
  it("days-before-stale: stale only once strictly more than that many days passed (default 60)", () => {
    expect(config().daysBeforeStale).toBe(60);
    expect(staleVerdict(issue(59), config(), now).stale).toBe(false);
    expect(staleVerdict(issue(60), config(), now).stale).toBe(false);
    expect(staleVerdict(issue(60.01), config(), now)).toMatchObject({ stale: true, reason: "inactive", idleDays: 60 });
    expect(staleVerdict(issue(10), config({ daysBeforeStale: 7 }), now).stale).toBe(true);
  });

  it("exempt-issue-labels: any one exempts, compared case- and accent-insensitively", () => {
    const c = config({ exemptLabels: ["Pinned", "securité"] });
    expect(staleVerdict(issue(100, { labels: ["pinned"] }), c, now)).toEqual({ stale: false, reason: "exempt-label" });
    expect(staleVerdict(issue(100, { labels: ["SECURITE"] }), c, now).stale).toBe(false);
    expect(staleVerdict(issue(100, { labels: ["bug"] }), c, now).stale).toBe(true);
    expect(cleanLabel("Écurie")).toBe("ecurie");
  });

  it("only-labels: all of them must be present", () => {
    const c = config({ onlyLabels: ["needs-info", "question"] });
    expect(staleVerdict(issue(100, { labels: ["needs-info"] }), c, now)).toEqual({ stale: false, reason: "not-only-labels" });
    expect(staleVerdict(issue(100, { labels: ["Question", "needs-info"] }), c, now).stale).toBe(true);
  });

  it("exempt-assignees and exempt-all-assignees", () => {
    expect(staleVerdict(issue(100, { assignees: ["octocat"] }), config({ exemptAssignees: ["octocat"] }), now).stale).toBe(false);
    expect(staleVerdict(issue(100, { assignees: ["hubot"] }), config({ exemptAssignees: ["octocat"] }), now).stale).toBe(true);
    expect(staleVerdict(issue(100, { assignees: ["hubot"] }), config({ exemptAllAssignees: true }), now)).toEqual({
      stale: false,
      reason: "exempt-assignee",
    });
  });

  it("exempt-milestones and exempt-all-milestones", () => {
    expect(staleVerdict(issue(100, { milestone: "v2" }), config({ exemptMilestones: ["v2"] }), now).stale).toBe(false);
    expect(staleVerdict(issue(100, { milestone: "v3" }), config({ exemptMilestones: ["v2"] }), now).stale).toBe(true);
    expect(staleVerdict(issue(100, { milestone: "v3" }), config({ exemptAllMilestones: true }), now)).toEqual({
      stale: false,
      reason: "exempt-milestone",
    });
  });

  it("an issue already carrying the stale label stays stale though marking it updated it", () => {
    expect(staleVerdict(issue(0, { labels: ["stale"] }), config(), now)).toMatchObject({ stale: true, reason: "labelled" });
    expect(staleVerdict(issue(0, { labels: ["stale", "pinned"] }), config({ exemptLabels: ["pinned"] }), now).stale).toBe(false);
  });
});
