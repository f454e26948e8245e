import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botBranches, type CrashWorld, createWorld, deliverAcked, filesAt, isRunning, settled, tasksOf } from "./crash-support.js";
import { git, handled, waitFor } from "./harness.js";

/**
 * `/agent cancel` and `/agent retry` end to end, on the real server: a hanging agent and the
 * background child it started are killed, the task ends `cancelled` and says so once; a retry runs
 * a new attempt in a fresh worktree.
 */
describe("/agent cancel, then /agent retry", () => {
  let w: CrashWorld;
  const cancelled = (n: number) => (w.gh.comments.get(n) ?? []).filter((c) => /was cancelled/.test(c.body));
  const readOr = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");

  beforeAll(async () => {
    w = await createWorld("cancel");
    w.flag("hang", true);
    await w.start();
  });
  afterAll(async () => {
    await w?.stop();
  });

  it("kills the hanging agent's whole tree, ends the task cancelled and says so exactly once", async () => {
    const fix = await deliverAcked(w, w.comment(42, "/agent fix"));
    const run = await waitFor(() => w.runs()[0], 30_000, "the agent to start");
    const marker = path.join(run.cwd, "dead-run-marker.txt");
    await waitFor(() => readOr(marker) || undefined, 10_000, "the agent to write");
    expect(isRunning(run.agent) && isRunning(run.child as number)).toBe(true);

    const cancel = await deliverAcked(w, w.comment(42, "/agent cancel"));
    const task = await settled(w, 42, "cancelled", 30_000);
    expect((await handled(w.dataDir, fix)).status).toBe("processed");
    expect((await handled(w.dataDir, cancel)).status).toBe("processed");
    // The agent and its background child are gone: the cancel killed the process group, not only the agent.
    await waitFor(() => (isRunning(run.agent) || isRunning(run.child as number) ? undefined : true), 10_000, "the tree to die");
    expect(cancelled(42)).toHaveLength(1);
    expect(cancelled(42)[0]?.body).toContain(`Task #${task.id} was cancelled by @maintainer`);
    // The command itself is answered once, and says what happens.
    expect(w.gh.marked(42, `delivery:${cancel}`).map((c) => c.body.split("\n")[0])).toEqual([
      `Stopping task #${task.id}: its agent and everything it started are being stopped.`,
    ]);
    expect(w.gh.pulls).toEqual([]);
    expect(botBranches(w)).toEqual([]);
    // The server stayed up: it still answers.
    expect((await fetch(`${w.server.url}/ping`)).status).toBe(200);
  });

  it("runs a new attempt in a fresh worktree on /agent retry, and opens the PR", async () => {
    w.flag("hang", false);
    const retry = await deliverAcked(w, w.comment(42, "/agent retry"));
    const task = await settled(w, 42, "pr_open");
    expect(w.gh.marked(42, `delivery:${retry}`).map((c) => c.body.split("\n")[0])).toEqual([`Retrying task #${task.id}.`]);
    const [cancelledRun, again, ...more] = w.runs();
    expect(more).toEqual([]);
    // Nothing the cancelled attempt wrote was in the retry's worktree, nor in the pushed branch.
    expect(again?.sawMarker).toBe(false);
    expect(isRunning(cancelledRun?.agent ?? 0)).toBe(false);
    expect(tasksOf(w)).toHaveLength(1);
    expect(filesAt(w, task.branch as string).sort()).toEqual(["README.md", "greet.js"]);
    expect(git(w.remote, "show", `${task.branch}:greet.js`)).toContain("Hello, world!");
    expect(w.gh.pulls.map((p) => p.number)).toEqual([task.pr_number]);
    // The PR's end is said once, and the earlier cancel is not said again.
    expect(w.gh.marked(42, `task-${task.id}:pr_open:`)).toHaveLength(1);
    expect(cancelled(42)).toHaveLength(1);
  });
});

/** Each end of a task is said, also when a retried task ends the same way as before. */
describe("/agent cancel twice, with a retry between", () => {
  let w: CrashWorld;

  beforeAll(async () => {
    w = await createWorld("cancel-twice");
    w.flag("hang", true);
    await w.start();
  });
  afterAll(async () => {
    await w?.stop();
  });

  it("says each cancel on the issue once", async () => {
    await deliverAcked(w, w.comment(42, "/agent fix"));
    await waitFor(() => w.runs()[0], 30_000, "the agent to start");
    await deliverAcked(w, w.comment(42, "/agent cancel"));
    await settled(w, 42, "cancelled", 30_000);

    await deliverAcked(w, w.comment(42, "/agent retry"));
    const second = await waitFor(() => w.runs()[1], 30_000, "the retried agent to start");
    await deliverAcked(w, w.comment(42, "/agent cancel"));
    await waitFor(() => (isRunning(second.agent) || isRunning(second.child as number) ? undefined : true), 30_000, "the tree to die");
    const cancels = await waitFor(
      () => {
        const found = (w.gh.comments.get(42) ?? []).filter((c) => /was cancelled/.test(c.body));
        return found.length >= 2 ? found : undefined;
      },
      30_000,
      "the second cancel to be said",
    );
    expect(cancels).toHaveLength(2);
    // The reply job clears the outbox right after GitHub answered the comment: wait for that write, not just the comment.
    await waitFor(() => (tasksOf(w)[0]?.reply_pending === null ? true : undefined), 30_000, "the reply to be marked sent");
    expect(tasksOf(w).map((t) => [t.state, t.reply_pending])).toEqual([["cancelled", null]]);
    expect((w.gh.comments.get(42) ?? []).filter((c) => /was cancelled/.test(c.body))).toHaveLength(2);
  });
});

/** A crash right after `/agent cancel` was answered: the restarted server finishes the cancel, and says it once. */
describe("/agent cancel, then kill -9 of the server's process group", () => {
  let w: CrashWorld;

  beforeAll(async () => {
    w = await createWorld("cancel-crash");
    w.flag("hang", true);
    await w.start();
  });
  afterAll(async () => {
    await w?.stop();
  });

  it("ends the task cancelled after the restart, with one comment, and nothing of its tree alive", async () => {
    await deliverAcked(w, w.comment(42, "/agent fix"));
    const run = await waitFor(() => w.runs()[0], 30_000, "the agent to start");
    w.gh.hooks.comment = async (req) => {
      if (!(req.body as { body: string }).body.startsWith("Stopping task")) return;
      w.gh.hooks.comment = undefined;
      await w.crash();
    };
    const cancel = await deliverAcked(w, w.comment(42, "/agent cancel"));
    await waitFor(() => (w.gh.hooks.comment ? undefined : true), 30_000, "the cancel's answer and the kill");
    w.flag("hang", false);
    await w.start();
    const task = await settled(w, 42, "cancelled", 30_000);
    expect((await handled(w.dataDir, cancel)).status).toBe("processed");
    expect(isRunning(run.agent) || isRunning(run.child as number)).toBe(false);
    expect((w.gh.comments.get(42) ?? []).filter((c) => /was cancelled/.test(c.body))).toHaveLength(1);
    expect(w.gh.marked(42, `delivery:${cancel}`)).toHaveLength(1);
    expect(w.gh.marked(42, `task-${task.id}:`)).toHaveLength(1);
    // The cancelled task did not run again after the restart.
    expect(w.runs()).toHaveLength(1);
    expect(w.gh.pulls).toEqual([]);
  });
});
