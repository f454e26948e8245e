import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, type RepoConfig } from "../../../src/config/schema.js";
import { type RequestDeps, requestTask, retryIssueTask } from "../../../src/executor/requests.js";
import type { Db } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { startRun } from "../../../src/store/runs.js";
import { createTask } from "../../../src/store/tasks.js";
import { createLogger } from "../../../src/util/logger.js";
import { backends } from "../../support/backends.js";

const log = createLogger({ level: "silent" });
const NO_LIMITS = { prConcurrentLimit: 0, prHourlyLimit: 0, dailyRunLimit: 0 };

function deps(db: Db, budget?: RequestDeps["budget"]): RequestDeps {
  return {
    db,
    log,
    agents: { enabled: ["command"], get: (name) => ({ name, run: async () => Promise.reject(new Error("not run here")) }) },
    runner: { enqueue: async () => {}, abortLocal: () => false },
    jobs: { add: async () => "1" } as unknown as RequestDeps["jobs"],
    ...(budget && { budget }),
  };
}

describe.each(backends())("the limits on $name", (backend) => {
  const setup = async (limits: Partial<RepoConfig>) => {
    const { db } = await backend.fresh();
    const repository = await upsertRepository(db, { fullName: "o/r", installationId: 1 });
    const config: RepoConfig = { ...DEFAULT_CONFIG, ...NO_LIMITS, ...limits };
    const ask = (issueNumber: number, budget?: RequestDeps["budget"]) =>
      requestTask(deps(db, budget), {
        repository,
        config,
        issueNumber,
        title: `issue ${issueNumber}`,
        requestedBy: "m",
        trigger: "comment",
      });
    return { db, repository, config, ask };
  };

  it("lets one of five simultaneous requests through prConcurrentLimit 1 (the check and the insert are one locked step)", async () => {
    const { ask } = await setup({ prConcurrentLimit: 1 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => ask(n)));
    expect(results.filter((r) => r.kind === "queued")).toHaveLength(1);
    expect(results.filter((r) => r.kind === "refused").map((r) => r.kind === "refused" && r.refusal.code)).toEqual(
      Array(4).fill("concurrent_limit"),
    );
  });

  it("lets two of five simultaneous requests through prHourlyLimit 2", async () => {
    const { ask } = await setup({ prHourlyLimit: 2 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => ask(n)));
    expect(results.filter((r) => r.kind === "queued")).toHaveLength(2);
  });

  it("counts a retry as a start of this hour, however old its task", async () => {
    const { db, repository, config } = await setup({ prHourlyLimit: 2 });
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000).toISOString();
    for (const issueNumber of [1, 2, 3]) {
      const { task } = await createTask(db, { repositoryId: repository.id, issueNumber, title: "t", requestedBy: "m", trigger: "comment" });
      await db
        .updateTable("tasks")
        .set({ state: "failed", created_at: twoHoursAgo, requested_at: twoHoursAgo, updated_at: twoHoursAgo })
        .where("id", "=", task.id)
        .execute();
    }
    const results = await Promise.all([1, 2, 3].map((n) => retryIssueTask(deps(db), repository, config, n, "m")));
    expect(results.map((r) => r.ok).sort()).toEqual([false, true, true]);
    expect(results.find((r) => !r.ok)?.message).toContain("prHourlyLimit");
  });

  it("counts queued tasks as runs to come against dailyRunLimit and the operator's daily runs", async () => {
    const { ask } = await setup({ dailyRunLimit: 1 });
    expect((await ask(1)).kind).toBe("queued");
    const second = await ask(2);
    expect(second.kind === "refused" && second.refusal.code).toBe("daily_limit");

    const other = await setup({});
    expect((await other.ask(1, { maxRunsPerDay: 1, maxCostUsdPerDay: 0 })).kind).toBe("queued");
    const held = await other.ask(2, { maxRunsPerDay: 1, maxCostUsdPerDay: 0 });
    expect(held.kind === "refused" && held.refusal.code).toBe("daily_budget");
  });

  it("prices runs under way and queued at the day's mean cost against the operator's cost budget", async () => {
    const { db, repository, ask } = await setup({});
    const budget = { maxRunsPerDay: 0, maxCostUsdPerDay: 3 };
    // One finished run cost $1; one more is running, its cost not known until it ends.
    for (const [issueNumber, cost] of [
      [101, 1],
      [102, null],
    ] as const) {
      const { task } = await createTask(db, { repositoryId: repository.id, issueNumber, title: "t", requestedBy: "m", trigger: "comment" });
      await db.updateTable("tasks").set({ state: "running" }).where("id", "=", task.id).execute();
      const run = await startRun(db, task.id, "command");
      if (cost !== null)
        await db.updateTable("runs").set({ cost_usd: cost, ended_at: new Date().toISOString() }).where("id", "=", run).execute();
    }
    expect((await ask(1, budget)).kind).toBe("queued"); // $1 spent + ~$1 running + ~$1 queued (this one) would reach $3 only with the next
    const held = await ask(2, budget);
    expect(held.kind === "refused" && held.refusal.code).toBe("cost_budget");
    expect(held.kind === "refused" && held.refusal.message).toContain("more for the 2 runs under way or queued");
  });
});
