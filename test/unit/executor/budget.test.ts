import { describe, expect, it } from "vitest";
import { claudeArgs } from "../../../src/executor/agents/claude-code.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import { checkOperatorBudget } from "../../../src/executor/budget.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { finishRun, startRun } from "../../../src/store/runs.js";
import { createTask } from "../../../src/store/tasks.js";
import { backends } from "../../support/backends.js";

describe.each(backends())("the operator's daily budget on $name", (backend) => {
  const setup = async () => {
    const { db } = await backend.fresh();
    const busy = await upsertRepository(db, { fullName: "o/busy", installationId: 1 });
    const quiet = await upsertRepository(db, { fullName: "o/quiet", installationId: 1 });
    const runIn = async (repositoryId: number, n: number, cost = 0) => {
      for (let i = 0; i < n; i++) {
        const { task } = await createTask(db, {
          repositoryId,
          title: `t${i}`,
          requestedBy: "m",
          trigger: "cli",
          findingId: null,
          issueNumber: 1000 + i + repositoryId * 100,
        });
        const run = await startRun(db, task.id, "command");
        await finishRun(db, run, { outcome: "changes", cost_usd: cost });
        await db.updateTable("tasks").set({ state: "merged" }).where("id", "=", task.id).execute();
      }
    };
    return { db, busy, quiet, runIn };
  };

  it("holds nothing without a budget, and holds every repository once the day's runs are spent", async () => {
    const { db, busy, quiet, runIn } = await setup();
    await runIn(busy.id, 4);
    expect(await checkOperatorBudget(db, busy.id, undefined)).toBeNull();
    expect(await checkOperatorBudget(db, busy.id, { maxRunsPerDay: 0, maxCostUsdPerDay: 0 })).toBeNull();
    expect(await checkOperatorBudget(db, quiet.id, { maxRunsPerDay: 4, maxCostUsdPerDay: 0 })).toMatchObject({ code: "daily_budget" });
  });

  it("shares the runs fairly: a busy repository stops at its share while another has work; alone it may use all", async () => {
    const { db, busy, quiet, runIn } = await setup();
    const budget = { maxRunsPerDay: 10, maxCostUsdPerDay: 0 };
    await runIn(busy.id, 5);
    // Alone, the busy repository may go past half.
    expect(await checkOperatorBudget(db, busy.id, budget)).toBeNull();
    // The quiet one has work queued: the busy one is at its share (5 of 10 for 2), the quiet one is not.
    await createTask(db, { repositoryId: quiet.id, issueNumber: 1, title: "q", requestedBy: "m", trigger: "comment" });
    expect(await checkOperatorBudget(db, busy.id, budget)).toMatchObject({ code: "fair_share" });
    expect(await checkOperatorBudget(db, quiet.id, budget)).toBeNull();
  });

  it("holds every repository once the day's reported cost reaches the cap", async () => {
    const { db, busy, quiet, runIn } = await setup();
    await runIn(busy.id, 2, 1.5);
    expect(await checkOperatorBudget(db, quiet.id, { maxRunsPerDay: 0, maxCostUsdPerDay: 5 })).toBeNull();
    await runIn(busy.id, 2, 1.5);
    expect(await checkOperatorBudget(db, quiet.id, { maxRunsPerDay: 0, maxCostUsdPerDay: 5 })).toMatchObject({ code: "cost_budget" });
  });
});

describe("the per-run cost cap", () => {
  it("is passed to Claude Code as --max-budget-usd", () => {
    const settings = loadAgentSettings({ BACKLOG_BOT_AGENTS: "claude-code", BACKLOG_BOT_MAX_COST_USD_PER_RUN: "0.75" });
    expect(settings.maxCostUsdPerRun).toBe(0.75);
    const args = claudeArgs(settings.claude);
    expect(args.slice(args.indexOf("--max-budget-usd"), args.indexOf("--max-budget-usd") + 2)).toEqual(["--max-budget-usd", "0.75"]);
    expect(claudeArgs(loadAgentSettings({ BACKLOG_BOT_AGENTS: "claude-code" }).claude)).not.toContain("--max-budget-usd");
  });
});
