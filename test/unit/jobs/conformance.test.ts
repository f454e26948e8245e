import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { LIVENESS_LOCK_CLASS } from "../../../src/jobs/graphile-liveness.js";
import type { JobContext } from "../../../src/jobs/types.js";
import { backends } from "../../support/backends.js";
import { jobsFor } from "../../support/jobs.js";

/**
 * The jobs port's contract (src/jobs/types.ts), the same tests on every backend: SQLite's jobs
 * table, and graphile-worker when DATABASE_URL_TEST names a PostgreSQL server.
 */
const until = async (check: () => boolean | Promise<boolean>): Promise<void> => {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
};

describe.each(backends())("jobs port on $name", (backend) => {
  const setup = async () => {
    const store = await backend.fresh();
    return { store, jobs: jobsFor(store, onTestFinished) };
  };

  it("runs a job added before start once, with its payload, id and first attempt", async () => {
    const { jobs } = await setup();
    const seen: Array<{ payload: unknown; context: JobContext }> = [];
    jobs.handle("greet", async (payload, context) => {
      seen.push({ payload, context });
    });
    const id = await jobs.add({ kind: "greet", payload: { who: "octocat" } });
    expect(typeof id).toBe("string");
    await jobs.start();
    await jobs.drain();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.payload).toEqual({ who: "octocat" });
    expect(seen[0]?.context).toMatchObject({ id, kind: "greet", attempt: 1 });
    expect(await jobs.stats()).toMatchObject({ pending: 0, running: 0, dead: 0 });
  });

  it("retries a failing job with a later attempt, and keeps it dead with its error once attempts run out", async () => {
    const { jobs } = await setup();
    const attempts: number[] = [];
    jobs.handle("flaky", async (_payload, context) => {
      attempts.push(context.attempt);
      throw new Error(`boom ${context.attempt}`);
    });
    const id = await jobs.add({ kind: "flaky", payload: { n: 1 }, maxAttempts: 2 });
    await jobs.start();
    await jobs.drain();
    expect(attempts).toEqual([1, 2]);
    const stats = await jobs.stats();
    expect(stats).toMatchObject({ running: 0, dead: 1 });
    const dead = await jobs.dead();
    expect(dead).toEqual([
      expect.objectContaining({ id, kind: "flaky", payload: { n: 1 }, attempts: 2, lastError: expect.stringContaining("boom 2") }),
    ]);
  });

  it("retries a dead job by hand with fresh attempts, and says false for one that is not dead", async () => {
    const { jobs } = await setup();
    let fail = true;
    let runs = 0;
    jobs.handle("once", async () => {
      runs++;
      if (fail) throw new Error("not yet");
    });
    const id = await jobs.add({ kind: "once", payload: {}, maxAttempts: 1 });
    await jobs.start();
    await jobs.drain();
    expect((await jobs.dead()).map((d) => d.id)).toEqual([id]);
    fail = false;
    expect(await jobs.retry(id)).toBe(true);
    await until(async () => runs === 2 && (await jobs.stats()).pending === 0);
    await jobs.drain();
    expect(await jobs.dead()).toEqual([]);
    expect(await jobs.retry(id)).toBe(false);
  });

  it("dedupes by key while a twin is waiting or running, and not after it finished", async () => {
    const { jobs } = await setup();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runs: unknown[] = [];
    jobs.handle("scan", async (payload) => {
      runs.push(payload);
      await gate;
    });
    const first = await jobs.add({ kind: "scan", payload: { v: 1 }, key: "scan:1" });
    expect(await jobs.add({ kind: "scan", payload: { v: 2 }, key: "scan:1" })).toBe(first);
    await jobs.start();
    await until(() => runs.length === 1);
    expect(await jobs.add({ kind: "scan", payload: { v: 3 }, key: "scan:1" })).toBe(first);
    release();
    await jobs.drain();
    expect(runs).toEqual([{ v: 1 }]);
    const again = await jobs.add({ kind: "scan", payload: { v: 4 }, key: "scan:1" });
    expect(again).not.toBe(first);
    await jobs.drain();
    expect(runs).toEqual([{ v: 1 }, { v: 4 }]);
  });

  it("adds a new job under the key of a dead one, which stays listed as dead", async () => {
    const { jobs } = await setup();
    let fail = true;
    const runs: unknown[] = [];
    jobs.handle("render", async (payload) => {
      runs.push(payload);
      if (fail) throw new Error("render failed");
    });
    const dead = await jobs.add({ kind: "render", payload: { v: 1 }, key: "render:1", maxAttempts: 1 });
    await jobs.start();
    await jobs.drain();
    expect((await jobs.dead()).map((d) => d.id)).toEqual([dead]);
    fail = false;
    const fresh = await jobs.add({ kind: "render", payload: { v: 2 }, key: "render:1" });
    expect(fresh).not.toBe(dead);
    await jobs.drain();
    expect(runs).toEqual([{ v: 1 }, { v: 2 }]);
    expect((await jobs.dead()).map((d) => d.id)).toEqual([dead]);
  });

  it("runs the jobs of one queue one at a time, in order, while other queues run beside them", async () => {
    const { jobs } = await setup();
    let inRepo1 = 0;
    let overlapInQueue = false;
    let overlapAcross = false;
    let active = 0;
    const order: number[] = [];
    jobs.handle(
      "task",
      async (payload: { queue: string; n: number }) => {
        active++;
        if (active > 1) overlapAcross = true;
        if (payload.queue === "repo:1") {
          inRepo1++;
          if (inRepo1 > 1) overlapInQueue = true;
          order.push(payload.n);
        }
        await new Promise((resolve) => setTimeout(resolve, 150));
        if (payload.queue === "repo:1") inRepo1--;
        active--;
      },
      { concurrency: 4 },
    );
    for (let n = 0; n < 4; n++) await jobs.add({ kind: "task", payload: { queue: "repo:1", n }, queue: "repo:1" });
    for (let n = 0; n < 2; n++) await jobs.add({ kind: "task", payload: { queue: `repo:${n + 2}`, n }, queue: `repo:${n + 2}` });
    await jobs.start();
    await jobs.drain();
    expect(overlapInQueue).toBe(false);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(overlapAcross).toBe(true);
  });

  it("never runs more of a kind at once than its concurrency", async () => {
    const { jobs } = await setup();
    let active = 0;
    let most = 0;
    jobs.handle(
      "render",
      async () => {
        active++;
        most = Math.max(most, active);
        await new Promise((resolve) => setTimeout(resolve, 50));
        active--;
      },
      { concurrency: 2 },
    );
    for (let i = 0; i < 6; i++) await jobs.add({ kind: "render", payload: { i } });
    await jobs.start();
    await jobs.drain();
    expect(most).toBe(2);
  });

  it("does not start a job before its runAt", async () => {
    const { jobs } = await setup();
    const startedAt: number[] = [];
    jobs.handle("later", async () => {
      startedAt.push(Date.now());
    });
    const runAt = new Date(Date.now() + 1500);
    await jobs.add({ kind: "later", payload: {}, runAt });
    await jobs.start();
    expect((await jobs.stats()).pending).toBe(1);
    await until(() => startedAt.length === 1);
    expect(startedAt[0]).toBeGreaterThanOrEqual(runAt.getTime() - 50);
  });

  it("on stop, aborts a running handler's signal and leaves its job for the next process, the attempt not counted", async () => {
    const { store, jobs } = await setup();
    let aborted = false;
    jobs.handle("long", async (_payload, context) => {
      await new Promise<void>((_resolve, reject) => {
        context.signal.addEventListener("abort", () => {
          aborted = true;
          reject(new Error("stopped"));
        });
      });
    });
    await jobs.add({ kind: "long", payload: {}, maxAttempts: 1 });
    await jobs.start();
    await until(async () => (await jobs.stats()).running === 1);
    await jobs.stop(2000);
    expect(aborted).toBe(true);

    const next = (await import("../../support/jobs.js")).jobsFor(store, onTestFinished);
    const attempts: number[] = [];
    next.handle("long", async (_payload, context) => {
      attempts.push(context.attempt);
    });
    await next.start();
    await until(() => attempts.length === 1);
    await next.drain();
    expect(attempts).toEqual([1]);
    expect(await next.dead()).toEqual([]);
  });
});

describe.each(backends())("jobs port on $name: a long job and the store connection", (backend) => {
  it("runs a long job once while its own process sweeps, even after PostgreSQL drops the liveness connection (its locks are taken back)", async () => {
    const store = await backend.fresh();
    const jobs = jobsFor(store, onTestFinished);
    let starts = 0;
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    jobs.handle("long", async () => {
      starts++;
      await held;
    });
    await jobs.start();
    await jobs.add({ kind: "long", payload: {} });
    await until(() => starts === 1);
    if (store.databaseUrl) {
      const { default: pg } = await import("pg");
      const admin = new pg.Client({ connectionString: store.databaseUrl });
      await admin.connect();
      onTestFinished(() => admin.end());
      const holders = async () =>
        (
          await admin.query("select pid from pg_locks where locktype = 'advisory' and classid = $1::int::oid and granted", [
            LIVENESS_LOCK_CLASS,
          ])
        ).rows as { pid: number }[];
      await until(async () => (await holders()).length > 0);
      const [before] = await holders();
      // A PostgreSQL restart, a proxy's idle timeout: the liveness connection is cut.
      await admin.query("select pg_terminate_backend($1)", [before?.pid]);
      await until(async () => (await holders()).some((h) => h.pid !== before?.pid));
    }
    // Sweeps every 200 ms with a 1-s grace: several pass while the job still runs.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(starts).toBe(1);
    release();
    await jobs.drain();
    expect(starts).toBe(1);
  });
});

/** Crashes, with real processes: a worker killed with SIGKILL, and one alive but slow. */
describe.each(backends())("jobs port on $name across processes", (backend) => {
  const fixture = fileURLToPath(new URL("../../fixtures/jobs/hanging-worker.ts", import.meta.url));
  const spawnWorker = (env: Record<string, string>) => {
    const child = spawn(process.execPath, ["--import", "tsx", fixture, "long"], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    onTestFinished(() => {
      child.kill("SIGKILL");
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    return { child, output: () => out };
  };

  it("runs again, elsewhere, a job whose process was killed with SIGKILL mid-run", async () => {
    const store = await backend.fresh();
    const jobs = jobsFor(store, onTestFinished);
    const id = await jobs.add({ kind: "long", payload: { n: 1 } });
    const worker = spawnWorker(store.env);
    await until(() => worker.output().includes(`started ${id}`));
    worker.child.kill("SIGKILL");
    await new Promise((resolve) => worker.child.once("exit", resolve));
    const attempts: number[] = [];
    jobs.handle("long", async (_payload, context) => {
      attempts.push(context.attempt);
    });
    await jobs.start();
    await until(() => attempts.length === 1);
    await jobs.drain();
    expect(attempts).toEqual([2]);
    expect(await jobs.stats()).toMatchObject({ pending: 0, running: 0, dead: 0 });
  });

  it("leaves a live process's long job alone", async () => {
    const store = await backend.fresh();
    const jobs = jobsFor(store, onTestFinished);
    const id = await jobs.add({ kind: "long", payload: {} });
    const worker = spawnWorker(store.env);
    await until(() => worker.output().includes(`started ${id}`));
    let stolen = false;
    jobs.handle("long", async () => {
      stolen = true;
    });
    await jobs.start();
    // Several sweeps and lease periods (1 s grace, 1.5 s lease) pass while the job runs.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(stolen).toBe(false);
    expect((await jobs.stats()).running).toBe(1);
  });
});
