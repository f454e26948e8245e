import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfigText } from "../../../src/config/parse.js";
import { createAgentRegistry } from "../../../src/executor/agents/registry.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import type { RequestDeps } from "../../../src/executor/requests.js";
import type { Jobs } from "../../../src/jobs/types.js";
import { autopilotSchedules } from "../../../src/scheduler/autopilot.js";
import { enqueueAutopilot, handleAutopilotJobs, slotOf } from "../../../src/scheduler/autopilot-jobs.js";
import { listAudit } from "../../../src/store/audit.js";
import { syncFindings } from "../../../src/store/findings.js";
import { recordConfig, upsertRepository } from "../../../src/store/repositories.js";
import type { Repository } from "../../../src/store/schema.js";
import { backends, type TestStore } from "../../support/backends.js";
import { jobsFor } from "../../support/jobs.js";
import { silentLog } from "../support/env.js";

const HOUR = 3_600_000;

/** Autopilot slots run as jobs: one per slot (deduplicated), durable, retried after a failure mid-pick. */
describe.each(backends())("autopilot as a job on $name", (backend) => {
  let store: TestStore & { remove(): Promise<void> };
  let jobs: Jobs | undefined;
  let repository: Repository;
  let enqueued: number[];
  /** Fails the dashboard sync request of the next task queued, once: an error after the first pick was made. */
  let failNextSync: boolean;

  const taskFindings = async () =>
    (await store.db.selectFrom("tasks").select("finding_id").where("trigger", "=", "autopilot").orderBy("id").execute()).map(
      (t) => t.finding_id,
    );

  const setUp = async (yaml: string) => {
    const parsed = parseConfigText(yaml);
    if (!parsed.ok) throw new Error(parsed.error);
    await recordConfig(store.db, repository.id, { config: parsed.config });
    const worker = jobsFor(store);
    jobs = worker;
    const requests: RequestDeps = {
      db: store.db,
      agents: createAgentRegistry(loadAgentSettings({ BACKLOG_BOT_AGENTS: "command", BACKLOG_BOT_AGENT_COMMAND: "true" })),
      jobs: {
        add: async (spec) => {
          if (failNextSync && spec.kind === "dashboard.sync") {
            failNextSync = false;
            throw new Error("the store went away mid-pick");
          }
          return worker.add(spec);
        },
      } as RequestDeps["jobs"],
      log: silentLog,
      runner: { enqueue: async (id: number) => void enqueued.push(id), abortLocal: () => false },
    };
    handleAutopilotJobs(worker, { db: store.db, requests });
    await worker.start();
    return worker;
  };

  beforeEach(async () => {
    store = await backend.fresh({ cleanup: false });
    jobs = undefined;
    enqueued = [];
    failNextSync = false;
    repository = await upsertRepository(store.db, { fullName: "o/r", installationId: 1 });
    // Ranked f1 > f2 > f3 > f4 (same marker, older first).
    const todo = (n: number) => ({
      kind: "todo" as const,
      fingerprint: `f${n}`,
      title: `work ${n}`,
      path: `src/a${n}.ts`,
      line: n,
      signals: { marker: "FIXME", authoredAt: `2020-01-0${n}T00:00:00Z` },
    });
    await syncFindings(store.db, repository.id, [1, 2, 3, 4].map(todo), { kinds: ["todo"] });
  });
  afterEach(async () => {
    await jobs?.stop(1000);
    await store.remove();
  });

  it("the same slot enqueued twice starts tasks once; the next slot starts again", async () => {
    // prConcurrentLimit 1 holds the slot to one task, leaving room under maxTasksPerDay that a second run of the slot would use.
    const jobs = await setUp("autopilot: { enabled: true, maxTasksPerDay: 5 }\nprHourlyLimit: 0\nprConcurrentLimit: 1\n");
    const slot = new Date("2026-03-02T03:00:00.250Z");
    // Two leaders' ticks for one slot (the second a little late) name the same job.
    const first = await enqueueAutopilot(jobs, repository, slot);
    expect(await enqueueAutopilot(jobs, repository, new Date(slot.getTime() + 1500))).toBe(first);
    await jobs.drain();
    expect(await taskFindings()).toEqual([1]);
    // The task ends, so the limit has room again; the slot's job, enqueued once more after it
    // finished, starts nothing: the slot is done.
    await store.db.updateTable("tasks").set({ state: "merged" }).execute();
    expect(await enqueueAutopilot(jobs, repository, slot)).not.toBe(first);
    await jobs.drain();
    expect(await taskFindings()).toEqual([1]);
    const marks = (await listAudit(store.db, { repositories: ["o/r"] })).items.filter((a) => a.action === "autopilot.slot");
    expect(marks.map((a) => a.target)).toEqual([`slot:${slotOf(slot)}`]);
    // The next slot is new work.
    await enqueueAutopilot(jobs, repository, new Date(slot.getTime() + HOUR));
    await jobs.drain();
    expect(await taskFindings()).toEqual([1, 2]);
    expect(enqueued).toHaveLength(2);
  });

  it("a failure mid-pick retries the slot's job, which starts only what is left", async () => {
    const jobs = await setUp("autopilot: { enabled: true, maxTasksPerDay: 2 }\nprHourlyLimit: 0\nprConcurrentLimit: 10\n");
    failNextSync = true;
    await enqueueAutopilot(jobs, repository, new Date("2026-03-02T03:00:00Z"));
    await jobs.drain();
    // The first attempt queued f1 and failed; the retry skipped it (open task) and queued f2, and
    // the slot's job is done (not left waiting or dead).
    expect(await taskFindings()).toEqual([1, 2]);
    expect(enqueued).toHaveLength(2);
    expect(await jobs.dead()).toEqual([]);
  });

  it("each cron tick hands its scheduled time to `run`, which names the slot", async () => {
    const parsed = parseConfigText("autopilot: { enabled: true, schedule: '*/5 * * * *' }\n");
    if (!parsed.ok) throw new Error(parsed.error);
    await recordConfig(store.db, repository.id, { config: parsed.config });
    vi.useFakeTimers({ now: new Date("2026-01-05T00:00:30Z") });
    const slots: string[] = [];
    const schedules = autopilotSchedules({ db: store.db, log: silentLog, run: async (_repo, slot) => void slots.push(slotOf(slot)) });
    try {
      await schedules.sync();
      await vi.advanceTimersByTimeAsync(11 * 60_000);
    } finally {
      await schedules.stop();
      vi.useRealTimers();
    }
    expect(slots).toEqual(["2026-01-05T00:05:00.000Z", "2026-01-05T00:10:00.000Z"]);
  });
});
