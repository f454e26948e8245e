import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfigText } from "../../../src/config/parse.js";
import type { GitHubAccess } from "../../../src/github/access.js";
import { defaultSchedule } from "../../../src/scheduler/cron.js";
import { createScheduler, type Scheduler } from "../../../src/scheduler/scheduler.js";
import { listOpenFindings } from "../../../src/store/findings.js";
import { recordConfig, upsertRepository } from "../../../src/store/repositories.js";
import type { Repository } from "../../../src/store/schema.js";
import { startGitHubStub } from "../../fixtures/github-stub.js";
import { fastOctokit, silentLog, tempStore } from "../support/env.js";
import { makeIssues, routeConfig, routeIssues } from "../support/issue-routes.js";

const MINUTE = 60_000;
const access: GitHubAccess = {
  octokit: async () => {
    throw new Error("runScan is replaced in this test");
  },
  token: async () => "unused",
  botIdentity: async () => ({ name: "bot", email: "bot@example.com" }),
};

describe("scheduler", () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  let scheduler: Scheduler | undefined;
  const start = new Date("2026-01-05T00:00:30Z");

  beforeEach(async () => {
    store = await tempStore();
  });
  afterEach(async () => {
    // Running scans wait on fake timers: keep the clock moving while stop() waits for them.
    const stopping = scheduler?.stop();
    if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(60 * MINUTE);
    await stopping;
    scheduler = undefined;
    vi.useRealTimers();
    await store.cleanup();
  });

  const addRepo = async (fullName: string, installationId: number, yaml?: string) => {
    const repo = await upsertRepository(store.db, { fullName, installationId });
    if (yaml) {
      const parsed = parseConfigText(yaml);
      if (!parsed.ok) throw new Error(parsed.error);
      await recordConfig(store.db, repo.id, { config: parsed.config });
    }
    return repo;
  };
  /** A scan that takes `minutes` of (fake) time and records when it ran. */
  const recorder = (minutes: (repo: Repository) => number) => {
    const runs: { repo: string; installation: number | null; start: number; end: number }[] = [];
    const runScan = async (repo: Repository) => {
      const began = Date.now();
      await new Promise((resolve) => setTimeout(resolve, minutes(repo) * MINUTE));
      runs.push({ repo: repo.full_name, installation: repo.installation_id, start: began, end: Date.now() });
      if (repo.full_name.endsWith("broken")) throw new Error("the mirror could not be fetched");
      return undefined;
    };
    return { runs, runScan };
  };
  const overlaps = (runs: { start: number; end: number }[]) =>
    runs.some((a, i) => runs.some((b, j) => i !== j && a.start < b.end && b.start < a.end));

  it("starts scans at their cron times (in the repository's time zone) and at the derived default", async () => {
    vi.useFakeTimers({ now: start });
    await addRepo("octo/five", 1, "schedule: '*/5 * * * *'\n");
    await addRepo("octo/berlin", 2, "schedule: '10 1 * * *'\ntimezone: Europe/Berlin\n");
    await addRepo("octo/default", 3);
    const { runs, runScan } = recorder(() => 1);
    scheduler = createScheduler({ db: store.db, access, dataDir: store.dir, log: silentLog, runScan });
    await scheduler.start();
    expect(scheduler.schedules().get("octo/default")).toEqual({ cron: defaultSchedule("octo/default"), timezone: "UTC" });

    await vi.advanceTimersByTimeAsync(24 * 60 * MINUTE);
    const startsOf = (name: string) => runs.filter((r) => r.repo === name).map((r) => new Date(r.start).toISOString());
    const five = startsOf("octo/five");
    expect(five.slice(0, 3)).toEqual(["2026-01-05T00:05:00.000Z", "2026-01-05T00:10:00.000Z", "2026-01-05T00:15:00.000Z"]);
    expect(five).toHaveLength(24 * 12 - 1);
    // 01:10 in Berlin (UTC+1 in January) is 00:10 UTC.
    expect(startsOf("octo/berlin")).toEqual(["2026-01-05T00:10:00.000Z"]);
    const [minute, hour] = defaultSchedule("octo/default").split(" ").map(Number);
    const expected = new Date(Date.UTC(2026, 0, 5, hour, minute));
    if (expected < start) expected.setUTCDate(6);
    expect(startsOf("octo/default")).toEqual(expected.getUTCDate() === 5 ? [expected.toISOString()] : []);
  });

  it("never overlaps two scans of one repository, nor two repositories of one installation; a failure stops nothing", async () => {
    vi.useFakeTimers({ now: start });
    await addRepo("octo/slow", 1, "schedule: '*/5 * * * *'\n");
    await addRepo("octo/sibling", 1, "schedule: '*/5 * * * *'\n");
    await addRepo("octo/broken", 2, "schedule: '*/5 * * * *'\n");
    await addRepo("other/fast", 3, "schedule: '*/5 * * * *'\n");
    // Slower than the schedule: each slot arrives while the last scan still runs.
    const { runs, runScan } = recorder((repo) => (repo.full_name === "other/fast" ? 1 : 7));
    scheduler = createScheduler({ db: store.db, access, dataDir: store.dir, log: silentLog, runScan });
    await scheduler.start();
    await vi.advanceTimersByTimeAsync(2 * 60 * MINUTE);

    for (const name of ["octo/slow", "octo/sibling", "octo/broken", "other/fast"]) {
      expect(runs.filter((r) => r.repo === name).length, name).toBeGreaterThan(3);
      expect(overlaps(runs.filter((r) => r.repo === name)), name).toBe(false);
    }
    expect(overlaps(runs.filter((r) => r.installation === 1))).toBe(false);
    // Different installations do run at the same time.
    expect(overlaps(runs.filter((r) => r.installation !== 1))).toBe(true);
    // The failing repository kept being retried at later slots.
    expect(runs.filter((r) => r.repo === "octo/broken").length).toBeGreaterThan(10);
  });

  it("picks up new repositories and changed schedules on sync, and stop() ends everything", async () => {
    vi.useFakeTimers({ now: start });
    const { runs, runScan } = recorder(() => 1);
    scheduler = createScheduler({ db: store.db, access, dataDir: store.dir, log: silentLog, runScan, syncEveryMs: 10 * MINUTE });
    await scheduler.start();
    const repo = await addRepo("octo/late", 1, "schedule: '0 * * * *'\n");
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    expect(scheduler.schedules().get("octo/late")?.cron).toBe("0 * * * *");
    await recordConfig(store.db, repo.id, { config: { ...(parseConfigText("schedule: '30 * * * *'\n") as { config: object }).config } });
    await vi.advanceTimersByTimeAsync(20 * MINUTE);
    expect(scheduler.schedules().get("octo/late")?.cron).toBe("30 * * * *");
    await vi.advanceTimersByTimeAsync(62 * MINUTE);
    expect(runs.map((r) => new Date(r.start).toISOString())).toEqual(["2026-01-05T00:30:00.000Z", "2026-01-05T01:30:00.000Z"]);
    await scheduler.stop();
    await vi.advanceTimersByTimeAsync(120 * MINUTE);
    expect(runs).toHaveLength(2);
  });

  it("scanNow runs the real scan through the installation's client and stores its findings", async () => {
    const stub = await startGitHubStub();
    try {
      routeIssues(stub, makeIssues(120, new Date()), { statuses: [] });
      routeConfig(stub, () => "scanners: [stale, issues]\n", { statuses: [] });
      const installations: (number | null)[] = [];
      const real: GitHubAccess = {
        ...access,
        octokit: async (id) => {
          installations.push(id);
          return fastOctokit(stub.baseUrl) as never;
        },
      };
      const repo = await addRepo("octo/real", 42);
      scheduler = createScheduler({ db: store.db, access: real, dataDir: store.dir, log: silentLog });
      const report = await scheduler.scanNow("octo/real");
      expect(installations).toEqual([42]);
      // Issue n idles n days plus the test's milliseconds: stale (more than 60 days) from n = 60 on.
      expect(report?.scanners.stale).toMatchObject({ added: 120 - 59 });
      const kinds = (await listOpenFindings(store.db, repo.id)).map((f) => f.kind);
      expect(kinds.filter((k) => k === "issue")).toHaveLength(Math.floor(120 / 7));
      await expect(scheduler.scanNow("nobody/here")).rejects.toThrow(/unknown repository/);
    } finally {
      await stub.close();
    }
  });
});
