import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  botBranches,
  type CrashWorld,
  createWorld,
  deliverAcked,
  filesAt,
  isRunning,
  settled,
  slowPushHook,
  tasksOf,
} from "./crash-support.js";
import { deliver, git, query, waitFor } from "./harness.js";

/**
 * The crash matrix of issue 8: the real server (`node dist/main.js`, in its own process group) is
 * killed with SIGKILL at one point of the `/agent fix` path, restarted on the same data dir, and
 * must then finish as if nothing happened: every acknowledged delivery handled, one task per issue,
 * one branch and one PR per task, one final comment per issue, nothing of the dead run alive, and
 * nothing the dead run wrote in the pushed branch.
 */

let world: CrashWorld | undefined;
/** A world for one scenario, stopped after it. */
async function newWorld(name: string): Promise<CrashWorld> {
  world = await createWorld(name);
  return world;
}
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

/** What every scenario must come back to. `deliveries` maps each acknowledged delivery id to its issue. */
async function expectRecovered(w: CrashWorld, deliveries: Record<string, number>, deadPids: number[]): Promise<void> {
  const issues = [...new Set(Object.values(deliveries))].sort();
  for (const n of issues) await settled(w, n, "pr_open");
  const tasks = tasksOf(w);
  // No task lost or doubled.
  expect(tasks.map((t) => t.issue_number).sort()).toEqual(issues);
  for (const [id, n] of Object.entries(deliveries)) {
    expect(query(w.dataDir, "select status from deliveries where id = ?", id)).toEqual([{ status: "processed" }]);
    // The command's own answer ("Queued task #…"), once.
    expect(w.gh.marked(n, `delivery:${id}`)).toHaveLength(1);
  }
  for (const task of tasks) {
    const branch = task.branch as string;
    expect(botBranches(w).filter((b) => b.startsWith(`backlog-bot/issue-${task.issue_number}-`))).toEqual([branch]);
    expect(w.gh.pulls.filter((p) => p.head === branch).map((p) => p.number)).toEqual([task.pr_number]);
    // One final comment for the task, whatever its attempt.
    expect(w.gh.marked(task.issue_number, `task-${task.id}:`)).toHaveLength(1);
    expect(w.gh.marked(task.issue_number, `task-${task.id}:pr_open:`)[0]?.body).toContain(`/pull/${task.pr_number}`);
    // The retry's work, and nothing of the dead run's.
    expect(git(w.remote, "show", `${branch}:greet.js`)).toContain("Hello, world!");
    expect(filesAt(w, branch).sort()).toEqual(["README.md", "greet.js"]);
  }
  for (const pid of deadPids) expect(isRunning(pid), `pid ${pid} of the dead run`).toBe(false);
  expect(w.server.output()).not.toMatch(/unhandled rejection/i);
}

const readOr = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");

describe("kill -9 of the server's process group, then a restart on the same data dir", () => {
  it("(a) while the agent runs: its tree is killed at restart and the retry's fresh worktree has none of its edits", async () => {
    const w = await newWorld("crash-agent");
    w.flag("hang", true);
    await w.start();
    const id = await deliverAcked(w, w.comment(42, "/agent fix"));
    const dead = await waitFor(() => w.runs()[0], 30_000, "the agent to start");
    const marker = path.join(dead.cwd, "dead-run-marker.txt");
    await waitFor(() => readOr(marker) || undefined, 10_000, "the agent to write");
    await w.crash();
    // The dead run goes on: its agent keeps editing its worktree after the server died.
    const after = readOr(marker);
    await waitFor(() => (readOr(marker) !== after ? true : undefined), 10_000, "the orphaned agent to write again");
    expect(isRunning(dead.agent) && isRunning(dead.child as number)).toBe(true);

    w.flag("hang", false);
    await w.start();
    await expectRecovered(w, { [id]: 42 }, [dead.agent, dead.child as number]);
    const [, retry, ...more] = w.runs();
    expect(more).toEqual([]);
    expect(retry?.cwd).not.toBe(dead.cwd);
    expect(retry?.sawMarker).toBe(false);
  });

  it("(b) during the push: the stalled git push is killed at restart and the branch is pushed once", async () => {
    const w = await newWorld("crash-push");
    slowPushHook(w);
    w.flag("slow-push", true);
    await w.start();
    const id = await deliverAcked(w, w.comment(42, "/agent fix"));
    const hookFile = path.join(w.dir, "hook.json");
    const hook = await waitFor(
      () => (existsSync(hookFile) ? (JSON.parse(readFileSync(hookFile, "utf8")) as { hook: number; sleep: number }) : undefined),
      60_000,
      "the push to reach the remote",
    );
    await w.crash();
    expect(isRunning(hook.sleep)).toBe(true);
    expect(botBranches(w)).toEqual([]);

    w.flag("slow-push", false);
    await w.start();
    await expectRecovered(w, { [id]: 42 }, [hook.hook, hook.sleep]);
  });

  it("(b2) after the push landed, before git push returned: the retry recognises its own branch and moves it", async () => {
    const w = await newWorld("crash-pushed");
    slowPushHook(w, "post-receive");
    w.flag("slow-push", true);
    await w.start();
    const id = await deliverAcked(w, w.comment(42, "/agent fix"));
    const hookFile = path.join(w.dir, "hook.json");
    const hook = await waitFor(
      () => (existsSync(hookFile) ? (JSON.parse(readFileSync(hookFile, "utf8")) as { hook: number; sleep: number }) : undefined),
      60_000,
      "the push to land",
    );
    await w.crash();
    const [landed] = botBranches(w);
    expect(git(w.remote, "log", "-1", "--format=%B", landed as string)).toMatch(/Backlog-Bot-Task: 1/);
    expect(tasksOf(w)[0]?.state).toBe("running");

    w.flag("slow-push", false);
    await w.start();
    await expectRecovered(w, { [id]: 42 }, [hook.hook, hook.sleep]);
    // The dead run's commit was replaced by the retry's (force-with-lease against its own tip), not stacked on it.
    expect(git(w.remote, "rev-list", "--count", `main..${landed}`).trim()).toBe("1");
    expect(git(w.remote, "rev-parse", `${landed}~1`).trim()).toBe(git(w.remote, "rev-parse", "main").trim());
    expect(git(w.remote, "log", "-1", "--format=%B", landed as string)).toMatch(/Backlog-Bot-Task: 1/);
  });

  it("(c) right after the PR was created: the retry finds the PR and opens no second one", async () => {
    const w = await newWorld("crash-pr");
    w.gh.hooks.pull = async () => {
      w.gh.hooks.pull = undefined;
      await w.crash();
    };
    await w.start();
    const id = await deliverAcked(w, w.comment(42, "/agent fix"));
    await waitFor(() => (w.gh.pulls.length === 1 && !w.gh.hooks.pull ? true : undefined), 60_000, "the PR and the kill");
    await w.start();
    await expectRecovered(w, { [id]: 42 }, []);
  });

  it("(d) mid-handler of /agent fix: the acknowledged delivery is handled after the restart, once", async () => {
    const w = await newWorld("crash-handler");
    w.gh.hooks.permission = async () => {
      w.gh.hooks.permission = undefined;
      await w.crash();
    };
    await w.start();
    const id = await deliverAcked(w, w.comment(42, "/agent fix"));
    await waitFor(() => (w.gh.hooks.permission ? undefined : true), 30_000, "the handler to ask for the permission");
    expect(tasksOf(w)).toEqual([]);
    await w.start();
    await expectRecovered(w, { [id]: 42 }, []);
  });

  it("(d2) mid-handler of /agent fix, after its answer was posted: no second answer, no second task", async () => {
    const w = await newWorld("crash-answered");
    w.gh.hooks.comment = async (req) => {
      if (!(req.body as { body: string }).body.startsWith("Queued task")) return;
      w.gh.hooks.comment = undefined;
      await w.crash();
    };
    await w.start();
    const id = await deliverAcked(w, w.comment(42, "/agent fix"));
    await waitFor(() => (w.gh.hooks.comment ? undefined : true), 30_000, "the answer and the kill");
    expect(query(w.dataDir, "select status from deliveries where id = ?", id)).toEqual([{ status: "received" }]);
    await w.start();
    await expectRecovered(w, { [id]: 42 }, []);
  });

  it("(e) during a 500-delivery burst: every acknowledged delivery is handled once, the rest on redelivery", async () => {
    const w = await newWorld("crash-burst");
    await w.start();
    // Plain comments (handled without a GitHub call) and a few `/agent help`, whose answers count the handlings.
    const burst = Array.from({ length: 500 }, (_, i) => ({
      id: randomUUID(),
      issue: i % 100 === 50 ? 100 + i : 42,
      body: i % 100 === 50 ? "/agent help" : `Thanks! (${i})`,
    }));
    const acked = new Set<string>();
    let crashing: Promise<void> | undefined;
    let next = 0;
    const sender = async () => {
      while (next < burst.length) {
        const item = burst[next++] as (typeof burst)[number];
        const answer = await deliver(w.server, "issue_comment", w.comment(item.issue, item.body), { id: item.id }).catch(() => undefined);
        if (answer && answer.status >= 200 && answer.status < 300) acked.add(item.id);
        if (acked.size >= 250) crashing ??= w.crash();
      }
    };
    await Promise.all(Array.from({ length: 16 }, sender));
    await crashing;
    const before = new Set(acked);
    expect(before.size).toBeGreaterThanOrEqual(250);
    expect(before.size).toBeLessThan(500);

    await w.start();
    // GitHub's redelivery of what was not acknowledged, with the same ids.
    for (const item of burst.filter((b) => !before.has(b.id))) {
      const answer = await deliver(w.server, "issue_comment", w.comment(item.issue, item.body), { id: item.id });
      expect(answer.status).toBeGreaterThanOrEqual(200);
      expect(answer.status).toBeLessThan(300);
    }
    const rows = await waitFor(
      () => {
        const done = query<{ id: string; status: string }>(w.dataDir, "select id, status from deliveries where status != 'received'");
        return done.length >= 500 ? done : undefined;
      },
      60_000,
      "all 500 deliveries to be handled",
    );
    expect(rows).toHaveLength(500);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(burst.map((b) => b.id)));
    expect(rows.every((r) => r.status === "processed")).toBe(true);
    for (const item of burst.filter((b) => b.body === "/agent help")) {
      await waitFor(() => (w.gh.marked(item.issue, `delivery:${item.id}`).length > 0 ? true : undefined), 30_000, "the help answer");
      expect(w.gh.marked(item.issue, `delivery:${item.id}`)).toHaveLength(1);
    }
    expect(tasksOf(w)).toEqual([]);
    expect(w.server.output()).not.toMatch(/unhandled rejection/i);
  });

  it("(f) between the reply's POST and its job's end: the reply is not posted twice", async () => {
    const w = await newWorld("crash-reply");
    w.gh.hooks.comment = async (req) => {
      if (!/<!-- backlog-bot:task-\d+:pr_open:/.test((req.body as { body: string }).body)) return;
      w.gh.hooks.comment = undefined;
      await w.crash();
    };
    await w.start();
    const id = await deliverAcked(w, w.comment(42, "/agent fix"));
    await waitFor(() => (w.gh.hooks.comment ? undefined : true), 60_000, "the final reply and the kill");
    const [task] = tasksOf(w);
    expect(task?.state).toBe("pr_open");
    // The end was recorded with its reply still owed when the server died.
    expect(task?.reply_pending).toContain("draft pull request");
    await w.start();
    await expectRecovered(w, { [id]: 42 }, []);
  });
});
