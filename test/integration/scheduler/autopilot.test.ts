import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../../../src/config/parse.js";
import type { RepoConfig } from "../../../src/config/schema.js";
import { createAgentRegistry } from "../../../src/executor/agents/registry.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import type { RequestDeps } from "../../../src/executor/requests.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import { type CheckTarget, recordCheckOutcome } from "../../../src/scanners/checks.js";
import { runAutopilot } from "../../../src/scheduler/autopilot.js";
import { loadDashboardState } from "../../../src/scheduler/dashboard-state.js";
import { dismissFindings } from "../../../src/store/dashboard.js";
import { syncFindings } from "../../../src/store/findings.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import type { Repository } from "../../../src/store/schema.js";
import { silentLog, tempStore } from "../support/env.js";

const DAY = 86_400_000;

function config(yaml: string): RepoConfig {
  const parsed = parseConfigText(yaml);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.config;
}

describe("autopilot", () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  let repository: Repository;
  let deps: { db: RequestDeps["db"]; requests: RequestDeps; log: typeof silentLog };
  let enqueued: number[];
  const todo = (n: number, title: string, marker = "FIXME") => ({
    kind: "todo" as const,
    fingerprint: `f${n}`,
    title,
    path: `src/a${n}.ts`,
    line: n,
    signals: { marker, authoredAt: `2020-01-0${n}T00:00:00Z` },
  });
  const end = (taskId: number, state: "failed" | "no_changes" | "merged" | "pr_open") =>
    store.db.updateTable("tasks").set({ state }).where("id", "=", taskId).execute();
  const taskFindings = async () =>
    (await store.db.selectFrom("tasks").select("finding_id").orderBy("id").execute()).map((t) => t.finding_id);

  beforeEach(async () => {
    store = await tempStore();
    enqueued = [];
    const agents = createAgentRegistry(loadAgentSettings({ BACKLOG_BOT_AGENTS: "command", BACKLOG_BOT_AGENT_COMMAND: "true" }));
    const requests: RequestDeps = {
      db: store.db,
      agents,
      jobs: createSqliteJobs({ db: store.db, log: silentLog }),
      log: silentLog,
      runner: { enqueue: async (id: number) => void enqueued.push(id), abortLocal: () => false },
    };
    deps = { db: store.db, requests, log: silentLog };
    repository = await upsertRepository(store.db, { fullName: "o/r", installationId: 1 });
    // Oldest first in rank: f1 > f2 > f3 > f4 > f5 (same marker, older is higher).
    await syncFindings(
      store.db,
      repository.id,
      [1, 2, 3, 4, 5].map((n) => todo(n, `work ${n}`)),
      { kinds: ["todo"] },
    );
  });
  afterEach(() => store.cleanup());

  it("does nothing when off (the default)", async () => {
    expect(await runAutopilot(deps, repository, config(""))).toEqual([]);
  });

  it("starts at most maxTasksPerDay a day, best ranked first, as trigger autopilot", async () => {
    const cfg = config("autopilot: { enabled: true }\nprHourlyLimit: 0\nprConcurrentLimit: 10");
    const today = new Date();
    expect((await runAutopilot(deps, repository, cfg, today)).map((t) => [t.finding_id, t.trigger, t.requested_by])).toEqual([
      [1, "autopilot", "autopilot"],
      [2, "autopilot", "autopilot"],
    ]);
    expect(await runAutopilot(deps, repository, cfg, new Date(today.getTime() + 60_000))).toEqual([]);
    expect(enqueued).toHaveLength(2);
    // The dashboard says what autopilot started and why.
    const state = await loadDashboardState(store.db, repository, cfg, today);
    expect(state.tasks.map((t) => t.note)).toEqual([
      expect.stringMatching(/^rank 2, score \d+ ≥ minScore 0$/),
      expect.stringMatching(/^rank 1, /),
    ]);
    expect(state.autopilot).toMatchObject({ enabled: true, startedToday: 2, maxTasksPerDay: 2 });
  });

  it("never goes beyond the PR limits", async () => {
    const cfg = config("autopilot: { enabled: true, maxTasksPerDay: 10 }\nprHourlyLimit: 0\nprConcurrentLimit: 3");
    expect(await runAutopilot(deps, repository, cfg)).toHaveLength(3);
    expect(await runAutopilot(deps, repository, cfg, new Date(Date.now() + DAY))).toHaveLength(0);
  });

  it("does not pick a failed or no-change finding again until its text changes; dismissed never", async () => {
    const cfg = config("autopilot: { enabled: true, maxTasksPerDay: 1 }\nprHourlyLimit: 0\nprConcurrentLimit: 10");
    const [first] = await runAutopilot(deps, repository, cfg);
    expect(first?.finding_id).toBe(1);
    await end(first?.id ?? 0, "failed");
    const [second] = await runAutopilot(deps, repository, cfg, new Date(Date.now() + DAY));
    expect(second?.finding_id).toBe(2);
    await end(second?.id ?? 0, "no_changes");
    await dismissFindings(store.db, repository.id, ["f3"], "maintainer");
    const [third] = await runAutopilot(deps, repository, cfg, new Date(Date.now() + 2 * DAY));
    expect(third?.finding_id).toBe(4);
    await end(third?.id ?? 0, "merged");
    // The failed TODO's text changes (same fingerprint: a push scan updates it in place).
    await syncFindings(store.db, repository.id, [todo(1, "work 1, now with a hint")], { kinds: ["todo"], paths: ["src/a1.ts"] });
    const [fourth] = await runAutopilot(deps, repository, cfg, new Date(Date.now() + 3 * DAY));
    expect(fourth?.finding_id).toBe(1);
    expect(await taskFindings()).toEqual([1, 2, 4, 1]);
  });

  it("respects kinds and minScore", async () => {
    const cfg = config("autopilot: { enabled: true, kinds: [failing_check] }\nprHourlyLimit: 0");
    expect(await runAutopilot(deps, repository, cfg)).toEqual([]);
    const high = config("autopilot: { enabled: true, minScore: 1000 }\nprHourlyLimit: 0");
    expect(await runAutopilot(deps, repository, high)).toEqual([]);
  });
  it("does not pick a failing check again after a failed task when only the commit changed; another failure is picked", async () => {
    const cfg = config("autopilot: { enabled: true, kinds: [failing_check], maxTasksPerDay: 5 }\nprHourlyLimit: 0\nprConcurrentLimit: 10");
    /** The check fails at `sha` (run `id`), its job log ending as vitest's does, with this run's duration and temp directory. */
    const fail = (id: number, sha: string, testName: string) => {
      const jobLog = [
        `2026-05-04T10:03:0${id}.0000000Z HEAD is now at ${sha.slice(0, 7)} Merge pull request #12 from octo/feature`,
        `2026-05-04T10:03:0${id}.0000000Z  FAIL  test/parser.test.ts > ${testName}`,
        "2026-05-04T10:03:05.0000001Z AssertionError: expected [] to deeply equal [ 1 ]",
        `2026-05-04T10:03:05.0000001Z    Duration  ${id}.${id}1s (transform ${id}0ms)`,
        "2026-05-04T10:03:11.0000000Z ##[error]Process completed with exit code 1.",
        `2026-05-04T10:03:12.0000000Z Temporarily overriding HOME='/home/runner/work/_temp/${id}e3b0f2a-9c1d-4f5e-8a7b-0c1d2e3f4a5b' before making global git config changes`,
      ].join("\n");
      const api = { request: async () => ({ data: jobLog }) } as unknown as CheckTarget["api"];
      return recordCheckOutcome(
        { db: store.db, api, repository, owner: "o", repo: "r", log: silentLog },
        {
          name: "test",
          headSha: sha,
          conclusion: "failure",
          url: null,
          completedAt: `2026-05-0${id}T10:00:00Z`,
          checkRunId: id,
          jobId: id,
        },
      );
    };
    const checkTasks = async () => (await store.db.selectFrom("tasks").select("id").orderBy("id").execute()).map((t) => t.id);

    expect(await fail(1, "3f9c2e1ab4d5c6e7f8091a2b3c4d5e6f7a8b9c0d", "parses nested lists")).toBe("failed");
    const [first] = await runAutopilot(deps, repository, cfg);
    expect(first).toBeDefined();
    await end(first?.id ?? 0, "failed");
    // A new commit on main; the same test fails the same way.
    expect(await fail(2, "9d8c7b6a5f4e3d2c1b0a99887766554433221100", "parses nested lists")).toBe("failed");
    expect(await runAutopilot(deps, repository, cfg, new Date(Date.now() + DAY))).toEqual([]);
    // Another commit, and now another test fails: that is new work.
    expect(await fail(3, "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", "parses empty lists")).toBe("failed");
    const [again] = await runAutopilot(deps, repository, cfg, new Date(Date.now() + 2 * DAY));
    expect(again?.finding_id).toBe(first?.finding_id);
    expect(await checkTasks()).toEqual([first?.id, again?.id]);
  });

  describe("counts maxTasksPerDay over the repository's day (its timezone), not UTC's", () => {
    const cfg = config(
      'timezone: America/Los_Angeles\nautopilot: { enabled: true, maxTasksPerDay: 2, schedule: "30 0,23 * * *" }\nprHourlyLimit: 0\nprConcurrentLimit: 10',
    );
    /** One slot at `iso`; its tasks are dated then (the store dates them now). */
    const slot = async (iso: string) => {
      const tasks = await runAutopilot(deps, repository, cfg, new Date(iso));
      if (tasks.length > 0)
        await store.db
          .updateTable("tasks")
          .set({ created_at: new Date(iso).toISOString() })
          .where(
            "id",
            "in",
            tasks.map((t) => t.id),
          )
          .execute();
      return tasks.length;
    };

    it("two slots of one Los Angeles day on two UTC days start maxTasksPerDay in all", async () => {
      // 15:00 and 17:00 PST on 15 January: 23:00Z on the 15th and 01:00Z on the 16th.
      expect(await slot("2026-01-15T23:00:00Z")).toBe(2);
      expect(await slot("2026-01-16T01:00:00Z")).toBe(0);
      // The dashboard counts the same local day: both tasks started at 15:00 PST, the next morning (UTC) included.
      const state = await loadDashboardState(store.db, repository, cfg, new Date("2026-01-16T01:00:00Z"));
      expect(state.autopilot).toMatchObject({ startedToday: 2, maxTasksPerDay: 2 });
      // 15:00 PST on the 16th is the next local day.
      expect(await slot("2026-01-16T23:00:00Z")).toBe(2);
    });

    it("on the 25-hour day DST ends, local midnight is in daylight time", async () => {
      // 23:30 PDT on 31 October, then 00:30 PDT (07:30Z) and 23:30 PST (07:30Z the next day) on 1 November.
      expect(await slot("2026-11-01T06:30:00Z")).toBe(2);
      expect(await slot("2026-11-01T07:30:00Z")).toBe(2);
      expect(await slot("2026-11-02T07:30:00Z")).toBe(0);
    });
  });
});
