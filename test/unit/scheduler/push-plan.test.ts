import { describe, expect, it } from "vitest";
import type { PushPayloadLike } from "../../../src/scheduler/push-scan.js";
import { MAX_PUSH_COMMITS, planPush } from "../../../src/scheduler/push-scan.js";
import { webhookFixture } from "../../integration/support/app.js";

describe("planPush", () => {
  it("replays the recorded push's commits: touched files, the ones still present, no full scan", () => {
    const payload = webhookFixture<PushPayloadLike>("push");
    const plan = planPush(7, payload);
    expect(plan).toEqual({
      repositoryId: 7,
      after: payload.after,
      touched: ["README.md", "src/old-parser.ts", "src/parser.ts"],
      present: ["README.md", "src/parser.ts"],
      full: false,
      configChanged: false,
    });
  });

  it("a file removed then re-added is present; the config path is noticed", () => {
    const plan = planPush(1, {
      before: "a".repeat(40),
      after: "b".repeat(40),
      commits: [{ removed: ["x.ts"] }, { added: ["x.ts", ".github/backlog-bot.yml"] }],
    });
    expect(plan.present).toEqual([".github/backlog-bot.yml", "x.ts"]);
    expect(plan.configChanged).toBe(true);
  });

  it("force pushes, new branches and truncated commit lists ask for a full scan", () => {
    const base = { before: "a".repeat(40), after: "b".repeat(40), commits: [{ added: ["x"] }] };
    expect(planPush(1, { ...base, forced: true }).full).toBe(true);
    expect(planPush(1, { ...base, before: "0".repeat(40) }).full).toBe(true);
    expect(planPush(1, { ...base, commits: Array.from({ length: MAX_PUSH_COMMITS }, () => ({ modified: ["x"] })) }).full).toBe(true);
    expect(planPush(1, base).full).toBe(false);
  });
});
