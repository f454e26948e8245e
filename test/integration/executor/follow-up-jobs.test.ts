import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCommandAgent } from "../../../src/executor/agents/command.js";
import { FollowUpRunner, TaskBusyError } from "../../../src/executor/follow-up-jobs.js";
import { markSection } from "../../../src/executor/pr-sections.js";
import { registerReplyJobs } from "../../../src/executor/replies.js";
import type { ExecutorDeps } from "../../../src/executor/run-task.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { endFollowUp, listFollowUps, startFollowUp } from "../../../src/store/follow-ups.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { listRuns, startRun } from "../../../src/store/runs.js";
import { claimTask, createTask, getTask, transition } from "../../../src/store/tasks.js";
import { createLogger } from "../../../src/util/logger.js";
import { testExecutorDeps } from "../../fixtures/executor-deps.js";
import { type CommitAuthor, cloneBare, commitFiles, git, makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { nodeRepo } from "./verify-fixtures.js";

/** A follow-up agent that fixes `sub`. */
const AGENT = `
import { existsSync, writeFileSync } from "node:fs";
writeFileSync("src/calc.js", "exports.add = (a, b) => a + b;\\nexports.sub = (a, b) => a - b;\\n");
console.log("fixed sub as the review asked");
`;
/** A follow-up agent that says it started (a file beside the worktree), then works until it is stopped. */
const SLOW_AGENT = (started: string) => `
import { writeFileSync } from "node:fs";
writeFileSync(${JSON.stringify(started)}, "");
await new Promise((r) => setTimeout(r, 60_000));
writeFileSync("src/calc.js", "too late\\n");
`;
const REVIEWER: CommitAuthor = { name: "Rita Reviewer", email: "rita@example.com", date: "2024-03-02T12:00:00Z" };
const BRANCH = "backlog-bot/issue-1-sub";
const log = createLogger({ level: "silent" });

let dir: string;
let db: Db;
let stub: GitHubStub;
let comments: string[];
/** The PR body as the stub holds it (PATCH replaces it). */
let prBody: string;
let remote: string;
let runner: FollowUpRunner;
let taskId: number;

beforeAll(() => {
  process.env.BACKLOG_BOT_SANDBOX = "off";
});
afterAll(() => {
  delete process.env.BACKLOG_BOT_SANDBOX;
});
beforeEach(async () => {
  dir = makeTempDir();
  db = await openDb(path.join(dir, "data"));
  comments = [];
  prBody = `${markSection("verification", "### Verification\n\n❌ Not verified: FIRST-RUN-EVIDENCE")}\n\nA maintainer's own words.`;
  const fixture = nodeRepo();
  git(fixture.dir, ["checkout", "-q", "-b", BRANCH]);
  commitFiles(fixture.dir, { "REVIEW.md": "please fix sub\n" }, REVIEWER, "review: note");
  git(fixture.dir, ["checkout", "-q", "main"]);
  remote = cloneBare(fixture.dir);
  stub = await startGitHubStub({
    "GET /repos/:owner/:repo/pulls/:number": () => ({
      body: {
        ...{ number: 7, title: "sub subtracts", state: "open", merged: false, body: prBody },
        // The head as the remote has it now (a round's push moves it).
        ...{ head: { ref: BRANCH, sha: git(remote, ["rev-parse", BRANCH]).trim() }, base: { ref: "main" } },
      },
    }),
    "PATCH /repos/:owner/:repo/pulls/:number": (req) => {
      prBody = (req.body as { body: string }).body;
      return { body: { number: 7, body: prBody } };
    },
    "GET /repos/:owner/:repo/pulls/:number/files": () => ({ body: [] }),
    "GET /repos/:owner/:repo/pulls/:number/reviews/:id": () => ({
      body: { id: 55, state: "CHANGES_REQUESTED", body: "sub must subtract", user: { login: "maintainer", type: "User" } },
    }),
    "GET /repos/:owner/:repo/pulls/:number/reviews/:id/comments": () => ({ body: [] }),
    "GET /repos/:owner/:repo/issues/:number/comments": () => ({ body: [] }),
    "GET /repos/:owner/:repo/commits/:ref/check-runs": () => ({ body: { total_count: 0, check_runs: [] } }),
    "POST /repos/:owner/:repo/check-runs": () => ({ status: 201, body: { id: 1 } }),
    "POST /repos/:owner/:repo/issues/:number/comments": (req) => {
      comments.push((req.body as { body: string }).body);
      return { status: 201, body: { id: comments.length } };
    },
  });
  const script = path.join(dir, "agent.mjs");
  writeFileSync(script, AGENT);
  const agent = createCommandAgent(`${process.execPath} ${script}`);
  runner = new FollowUpRunner({
    ...testExecutorDeps({
      db,
      dataDir: path.join(dir, "data"),
      agents: { enabled: ["command"], get: () => agent },
      baseUrl: stub.baseUrl,
      bot: { name: "backlog-bot[bot]", email: "1+bot@users.noreply.github.com" },
    }),
  });
  const repo = await upsertRepository(db, { fullName: "octo/calc", installationId: 1, cloneUrl: remote, defaultBranch: "main" });
  const { task } = await createTask(db, {
    repositoryId: repo.id,
    issueNumber: 1,
    title: "sub subtracts",
    requestedBy: "maintainer",
    trigger: "cli",
  });
  await db.updateTable("tasks").set({ state: "pr_open", pr_number: 7, branch: BRANCH }).where("id", "=", task.id).execute();
  taskId = task.id;
});
afterEach(async () => {
  await db.destroy();
  await stub.close();
  removeDir(dir);
});

const writer = { login: "maintainer", isBot: false, canWrite: true };
const review = { type: "review" as const, reviewId: 55, state: "changes_requested" as const };

/** Starts a round whose agent works until stopped, with lease renewals every 100 ms; returns (once the agent runs) how it ends. */
async function startSlowRound(job: Parameters<FollowUpRunner["run"]>[0]) {
  const deps = (runner as unknown as { deps: ExecutorDeps }).deps;
  const started = path.join(dir, "slow-agent-started");
  const script = path.join(dir, "slow-agent.mjs");
  writeFileSync(script, SLOW_AGENT(started));
  const slow = createCommandAgent(`${process.execPath} ${script}`);
  const quick = new FollowUpRunner({ ...deps, agents: { ...deps.agents, get: () => slow }, settings: { ...deps.settings, leaseMs: 300 } });
  const end = quick.run(job, { log });
  const deadline = Date.now() + 20_000;
  while (!existsSync(started)) {
    if (Date.now() > deadline) throw new Error("the slow agent never started");
    await new Promise((r) => setTimeout(r, 50));
  }
  return { end };
}

describe("FollowUpRunner", () => {
  it("turns a writer's review into a new commit on the same branch (the reviewer's commit survives) and returns the task to pr_open", async () => {
    const before = git(remote, ["rev-parse", BRANCH]).trim();
    const end = await runner.run({ taskId, trigger: review, actor: writer }, { log });
    expect(end).toEqual({ ran: true, outcome: "passed:[]" });
    expect(git(remote, ["rev-parse", `${BRANCH}^`]).trim()).toBe(before);
    expect((await getTask(db, taskId))?.state).toBe("pr_open");
    expect(await listFollowUps(db, taskId)).toEqual([
      expect.objectContaining({ trigger: "review", head_sha: before, outcome: "passed:[]" }),
    ]);
    expect(comments).toEqual([expect.stringMatching(/^Follow-up by `command`: pushed/)]);
    // The PR body's Verification section is the follow-up's now; the maintainer's words stay.
    expect(prBody).toMatch(/### Verification\n\n_Evidence of commit `\w{7}` \(the latest follow-up\)\._\n\n✅ Verified: `npm test`/);
    expect(prBody).toContain("- Latest follow-up, after a review, by `command`");
    expect(prBody).not.toContain("FIRST-RUN-EVIDENCE");
    expect(prBody).toContain("A maintainer's own words.");
  });

  it("does nothing for a reader's review", async () => {
    const before = git(remote, ["rev-parse", BRANCH]).trim();
    const end = await runner.run({ taskId, trigger: review, actor: { ...writer, canWrite: false } }, { log });
    expect(end).toEqual({ ran: false, reason: "maintainer has no write access", summaryPosted: false });
    expect(git(remote, ["rev-parse", BRANCH]).trim()).toBe(before);
    expect(comments).toEqual([]);
  });

  it("at followUps.max posts the summary once and runs nothing more", async () => {
    await db
      .updateTable("repositories")
      .set({ config: JSON.stringify({ followUps: { max: 1 } }) })
      .execute();
    expect(await runner.run({ taskId, trigger: review, actor: writer }, { log })).toMatchObject({ ran: true });
    const ci = { type: "ci" as const, checkName: "test", headSha: git(remote, ["rev-parse", BRANCH]).trim() };
    expect(await runner.run({ taskId, trigger: ci, actor: null }, { log })).toMatchObject({ ran: false, summaryPosted: true });
    expect(await runner.run({ taskId, trigger: ci, actor: null }, { log })).toMatchObject({ ran: false, summaryPosted: false });
    expect(comments).toHaveLength(2); // the follow-up's report, then the one summary
    expect(comments[1]).toMatch(/^backlog-bot stops following up on this pull request: the pull request had its 1 follow-up\(s\)/);
    expect((await listFollowUps(db, taskId)).map((r) => r.trigger)).toEqual(["review", "summary"]);
  });

  it("at followUps.max, a summary whose post failed is posted by the job's retry, once", async () => {
    await db
      .updateTable("repositories")
      .set({ config: JSON.stringify({ followUps: { max: 1 } }) })
      .execute();
    const head = git(remote, ["rev-parse", BRANCH]).trim();
    await endFollowUp(db, await startFollowUp(db, { taskId, trigger: "review", headSha: head }), "failed:[]");
    // GitHub fails the summary's first post (a 502); the job throws and the jobs port runs it again.
    let posts = 0;
    stub.route("POST /repos/:owner/:repo/issues/:number/comments", (req) => {
      if (posts++ === 0) return { status: 502, body: { message: "Bad Gateway" } };
      comments.push((req.body as { body: string }).body);
      return { status: 201, body: { id: comments.length } };
    });
    const ci = { type: "ci" as const, checkName: "test", headSha: head };
    await expect(runner.run({ taskId, trigger: ci, actor: null }, { log })).rejects.toThrow();
    expect(await runner.run({ taskId, trigger: ci, actor: null }, { log })).toMatchObject({ ran: false, summaryPosted: true });
    expect(await runner.run({ taskId, trigger: ci, actor: null }, { log })).toMatchObject({ ran: false, summaryPosted: false });
    expect(comments).toHaveLength(1);
    expect(comments[0]).toMatch(/^backlog-bot stops following up on this pull request: the pull request had its 1 follow-up\(s\)/);
    expect((await listFollowUps(db, taskId)).map((r) => r.trigger)).toEqual(["review", "summary"]);
  });

  it("a round that pushed stays pushed when GitHub refuses its comment (a 502): the comment is owed, and the reply job says it once", async () => {
    const deps = (runner as unknown as { deps: ExecutorDeps }).deps;
    const jobs = createSqliteJobs({ db, log, pollMs: 20 });
    await registerReplyJobs({ db, jobs, github: deps.github, log });
    await jobs.start();
    try {
      let posts = 0;
      stub.route("POST /repos/:owner/:repo/issues/:number/comments", (req) => {
        if (posts++ === 0) return { status: 502, body: { message: "Bad Gateway" } };
        comments.push((req.body as { body: string }).body);
        return { status: 201, body: { id: comments.length } };
      });
      stub.route("GET /repos/:owner/:repo/issues/:number/comments", () => ({
        body: comments.map((body, i) => ({ id: i + 1, body, user: { login: "backlog-bot[bot]", type: "Bot" } })),
      }));
      const before = git(remote, ["rev-parse", BRANCH]).trim();
      const end = await new FollowUpRunner({ ...deps, jobs }).run({ taskId, trigger: review, actor: writer }, { log });
      // The round pushed: it is recorded as it ended, not as a failed follow-up.
      expect(end).toEqual({ ran: true, outcome: "passed:[]" });
      expect(git(remote, ["rev-parse", `${BRANCH}^`]).trim()).toBe(before);
      const [round] = await listFollowUps(db, taskId);
      expect(round).toMatchObject({ trigger: "review", outcome: "passed:[]" });
      await jobs.drain();
      expect(comments).toEqual([
        expect.stringMatching(/^Follow-up by `command`: pushed \w{7} on top of \w{7}\.\n\n✅ Verified: `npm test`/),
      ]);
      expect(comments[0]).toContain(`<!-- backlog-bot:follow-up-${round?.id}:pushed -->`);
      expect(await getTask(db, taskId)).toMatchObject({ state: "pr_open", reply_pending: null });
    } finally {
      await jobs.stop(1_000);
    }
  });

  it("past followUps.max, as the summary promises, each writer's `/agent fix` starts one round; CI does not; dailyRunLimit holds", async () => {
    await db
      .updateTable("repositories")
      .set({ config: JSON.stringify({ followUps: { max: 1 } }) })
      .execute();
    expect(await runner.run({ taskId, trigger: review, actor: writer }, { log })).toMatchObject({ ran: true });
    const ci = { type: "ci" as const, checkName: "test", headSha: git(remote, ["rev-parse", BRANCH]).trim() };
    expect(await runner.run({ taskId, trigger: ci, actor: null }, { log })).toMatchObject({ ran: false, summaryPosted: true });
    expect(comments[1]).toContain(
      "each `/agent fix <instructions>` that a person with write access comments on this pull request starts one more",
    );
    // The writer changes something on the branch, then asks.
    const work = path.join(dir, "work");
    git(dir, ["clone", "-q", "-b", BRANCH, remote, work]);
    commitFiles(work, { "src/calc.js": "exports.add = (a, b) => a + b;\nexports.sub = (a, b) => a + b;\n" }, REVIEWER, "oops");
    git(work, ["push", "-q", "origin", BRANCH]);
    const tip = git(remote, ["rev-parse", BRANCH]).trim();
    const fix = { taskId, trigger: { type: "comment" as const }, actor: writer, instructions: "sub again" };
    expect(await runner.run(fix, { log })).toEqual({ ran: true, outcome: "passed:[]" });
    expect(git(remote, ["rev-parse", `${BRANCH}^`]).trim()).toBe(tip);
    // An allowed bot's `/agent fix` and red CI stay stopped.
    const bot = { login: "fix-bot[bot]", isBot: true, canWrite: true };
    expect(await runner.run({ ...fix, actor: bot }, { log })).toMatchObject({ ran: false, summaryPosted: false });
    expect(await runner.run({ taskId, trigger: ci, actor: null }, { log })).toMatchObject({ ran: false });
    // Two agent runs so far: a limit of 2 holds the next one back.
    await db
      .updateTable("repositories")
      .set({ config: JSON.stringify({ followUps: { max: 1 }, dailyRunLimit: 2 }) })
      .execute();
    const asked = { ...fix, trigger: { type: "comment" as const, commentId: 903 } };
    expect(await runner.run(asked, { log })).toMatchObject({ ran: false, reason: expect.stringContaining("`dailyRunLimit`: 2") });
    expect((await listFollowUps(db, taskId)).map((r) => r.trigger)).toEqual(["review", "summary", "comment"]);
    // The person who was told "Queued" is told why not, where they asked.
    expect(comments.at(-1)).toMatch(
      /did not run: the pull request had its 1 follow-up\(s\).*waits: agents ran 2 times.*`dailyRunLimit`: 2/,
    );
    expect(comments.at(-1)).toContain("<!-- backlog-bot:follow-up-1:refused:903 -->");
  });

  it("skips red CI on a head the pull request has moved past: checks lint and test failed on A, the round for lint pushed B", async () => {
    const a = git(remote, ["rev-parse", BRANCH]).trim();
    const lint = { type: "ci" as const, checkName: "lint", headSha: a };
    expect(await runner.run({ taskId, trigger: lint, actor: null }, { log })).toEqual({ ran: true, outcome: "passed:[]" });
    const b = git(remote, ["rev-parse", BRANCH]).trim();
    expect(b).not.toBe(a);
    const testOnA = { type: "ci" as const, checkName: "test", headSha: a };
    expect(await runner.run({ taskId, trigger: testOnA, actor: null }, { log })).toEqual({
      ran: false,
      reason: `the failure of test is on ${a.slice(0, 7)}, no longer the pull request's head (${b.slice(0, 7)}): its result is stale`,
      summaryPosted: false,
    });
    expect(git(remote, ["rev-parse", BRANCH]).trim()).toBe(b);
    expect((await listFollowUps(db, taskId)).map((r) => [r.check_name, r.head_sha])).toEqual([["lint", a]]);
    expect(comments).toHaveLength(1); // the lint round's report only
  });

  it("runs a follow-up after one that was cancelled: the cancel ended with its round", async () => {
    // An earlier round, cancelled while it ran (as `/agent cancel` marks it), and returned to pr_open by its own cleanup.
    expect(await claimTask(db, taskId, "earlier-worker", 60_000, { followUp: true })).toMatchObject({ state: "running" });
    await db.updateTable("tasks").set({ cancel_requested_by: "maintainer" }).where("id", "=", taskId).execute();
    await transition(db, taskId, "pr_open", { actor: "worker", owner: "earlier-worker", log });
    // Lease renewals every 100 ms: a refused renewal aborts the round.
    const deps = (runner as unknown as { deps: ExecutorDeps }).deps;
    const quick = new FollowUpRunner({ ...deps, settings: { ...deps.settings, leaseMs: 300 } });
    const end = await quick.run({ taskId, trigger: review, actor: writer }, { log });
    expect(end).toEqual({ ran: true, outcome: "passed:[]" });
    expect(comments).toEqual([expect.stringMatching(/^Follow-up by `command`: pushed/)]);
    expect((await getTask(db, taskId))?.cancel_requested_by).toBeNull();
  });

  it("records a round stopped by `/agent cancel` as cancelled, not as no change, and a later review or `/agent fix` still starts one", async () => {
    const before = git(remote, ["rev-parse", BRANCH]).trim();
    const { end: round } = await startSlowRound({ taskId, trigger: review, actor: writer });
    // What `/agent cancel` on the pull request does to a running task.
    await db.updateTable("tasks").set({ cancel_requested_by: "maintainer" }).where("id", "=", taskId).execute();
    expect(await round).toEqual({ ran: true, outcome: "cancelled" });
    expect(git(remote, ["rev-parse", BRANCH]).trim()).toBe(before);
    expect((await getTask(db, taskId))?.state).toBe("pr_open");
    expect(comments).toEqual([expect.stringMatching(/^The follow-up of task #\d+ was cancelled by @maintainer; its agent was stopped/)]);
    expect(await listFollowUps(db, taskId)).toEqual([expect.objectContaining({ trigger: "review", outcome: "cancelled" })]);
    // A writer's review, then a writer's `/agent fix`, each start a round.
    const review2 = { ...review, reviewId: 56 };
    expect(await runner.run({ taskId, trigger: review2, actor: writer }, { log })).toEqual({ ran: true, outcome: "passed:[]" });
    expect(await runner.run({ taskId, trigger: { type: "comment" }, actor: writer, instructions: "again" }, { log })).toMatchObject({
      ran: true,
    });
  });

  it("records a round whose pull request was merged meanwhile as interrupted, and says nothing of a change", async () => {
    const before = git(remote, ["rev-parse", BRANCH]).trim();
    const { end: round } = await startSlowRound({ taskId, trigger: review, actor: writer });
    expect(await transition(db, taskId, "merged", { actor: "github", log })).toBeTruthy();
    expect(await round).toEqual({ ran: true, outcome: "interrupted" });
    expect(git(remote, ["rev-parse", BRANCH]).trim()).toBe(before);
    expect((await getTask(db, taskId))?.state).toBe("merged");
    expect(comments).toEqual([]);
    expect(await listFollowUps(db, taskId)).toEqual([expect.objectContaining({ outcome: "interrupted" })]);
  });

  it("retries a follow-up that finds the task still running, instead of dropping it; an ended task is dropped", async () => {
    await claimTask(db, taskId, "other-process", 60_000, { followUp: true });
    await expect(runner.run({ taskId, trigger: review, actor: writer }, { log })).rejects.toBeInstanceOf(TaskBusyError);
    expect(await listFollowUps(db, taskId)).toEqual([]);
    await transition(db, taskId, "pr_open", { actor: "worker", owner: "other-process", log });
    expect(await runner.run({ taskId, trigger: review, actor: writer }, { log })).toMatchObject({ ran: true });
    await db.updateTable("tasks").set({ state: "merged" }).where("id", "=", taskId).execute();
    expect(await runner.run({ taskId, trigger: review, actor: writer }, { log })).toMatchObject({ ran: false });
  });
});

describe("follow-up jobs at the daily run limit", () => {
  /** The runner on the real SQLite jobs port (as app.ts wires it), and GitHub listing the comments it was sent, as the app's. */
  async function queued() {
    const deps = (runner as unknown as { deps: ExecutorDeps }).deps;
    const jobs = createSqliteJobs({ db, log, pollMs: 20 });
    const queue = new FollowUpRunner({ ...deps, jobs });
    queue.start();
    await jobs.start();
    stub.route("GET /repos/:owner/:repo/issues/:number/comments", () => ({
      body: comments.map((body, i) => ({ id: i + 1, body, user: { login: "backlog-bot[bot]", type: "Bot" } })),
    }));
    return { queue, jobs };
  }
  /** Two agent runs in the last 24 hours against `dailyRunLimit: 2`. */
  async function atLimit(): Promise<void> {
    await startRun(db, taskId, "command");
    await startRun(db, taskId, "command");
    await db
      .updateTable("repositories")
      .set({ config: JSON.stringify({ dailyRunLimit: 2 }) })
      .execute();
  }

  it("holds back red CI's and a review's rounds within followUps.max, says why once for all of them, and runs later events once the limit allows", async () => {
    const { queue, jobs } = await queued();
    try {
      await atLimit();
      const head = git(remote, ["rev-parse", BRANCH]).trim();
      await queue.enqueue({ taskId, trigger: { type: "ci", checkName: "lint", headSha: head }, actor: null }, `ci:${head}:lint`);
      await queue.enqueue({ taskId, trigger: { type: "ci", checkName: "test", headSha: head }, actor: null }, `ci:${head}:test`);
      await queue.enqueue({ taskId, trigger: review, actor: writer }, "review:55");
      await jobs.drain();
      // No agent ran, nothing was pushed or recorded, and the task waits with its PR open.
      expect(await listRuns(db, taskId)).toHaveLength(2);
      expect(git(remote, ["rev-parse", BRANCH]).trim()).toBe(head);
      expect(await listFollowUps(db, taskId)).toEqual([]);
      expect((await getTask(db, taskId))?.state).toBe("pr_open");
      expect(comments).toHaveLength(1);
      expect(comments[0]).toMatch(
        /^No follow-up round starts now: the repository's daily run limit is reached: agents ran 2 times here in the last 24 hours \(`dailyRunLimit`: 2\)\./,
      );
      expect(comments[0]).toContain("<!-- backlog-bot:follow-up-");
      expect(await jobs.stats()).toMatchObject({ dead: 0 });
      // The limit allows again: the next red CI starts its round.
      await db
        .updateTable("repositories")
        .set({ config: JSON.stringify({ dailyRunLimit: 3 }) })
        .execute();
      await queue.enqueue({ taskId, trigger: { type: "ci", checkName: "test", headSha: head }, actor: null }, `ci:${head}:test`);
      await jobs.drain();
      expect(await listFollowUps(db, taskId)).toEqual([
        expect.objectContaining({ trigger: "ci", check_name: "test", outcome: "passed:[]" }),
      ]);
      expect(comments).toHaveLength(2);
      expect(comments[1]).toMatch(/^Follow-up by `command`: pushed/);
    } finally {
      await jobs.stop(1000);
    }
  });

  it("answers a queued `/agent fix` that is refused when its job runs (the PR closed, the daily limit), once per comment across retries", async () => {
    const { queue, jobs } = await queued();
    try {
      // The PR was closed after the handler answered "Queued".
      const head = git(remote, ["rev-parse", BRANCH]).trim();
      stub.route("GET /repos/:owner/:repo/pulls/:number", () => ({
        body: {
          number: 7,
          title: "sub subtracts",
          state: "closed",
          merged: false,
          head: { ref: BRANCH, sha: head },
          base: { ref: "main" },
        },
      }));
      const fix = { taskId, trigger: { type: "comment" as const, commentId: 901 }, actor: writer, instructions: "sub again" };
      await queue.enqueue(fix, "comment:901");
      await jobs.drain();
      expect(await queue.run(fix, { log })).toMatchObject({ ran: false }); // the same job, retried
      expect(comments).toEqual([
        expect.stringMatching(
          /^The follow-up of task #\d+ asked for with `\/agent` on this pull request did not run: the pull request is merged or closed\. Nothing was pushed\./,
        ),
      ]);
      // Open again, but at the daily limit: the next comment's round is refused for that, and says so once.
      stub.route("GET /repos/:owner/:repo/pulls/:number", () => ({
        body: { number: 7, title: "sub subtracts", state: "open", merged: false, head: { ref: BRANCH, sha: head }, base: { ref: "main" } },
      }));
      await atLimit();
      const again = { ...fix, trigger: { type: "comment" as const, commentId: 902 } };
      await queue.enqueue(again, "comment:902");
      await jobs.drain();
      expect(await queue.run(again, { log })).toMatchObject({ ran: false, reason: expect.stringContaining("`dailyRunLimit`: 2") });
      expect(comments).toHaveLength(2);
      expect(comments[1]).toMatch(
        /^The follow-up of task #\d+ asked for with `\/agent` on this pull request did not run: the repository's daily run limit is reached: agents ran 2 times here in the last 24 hours \(`dailyRunLimit`: 2\)\./,
      );
      expect(await listRuns(db, taskId)).toHaveLength(2);
      expect((await getTask(db, taskId))?.state).toBe("pr_open");
    } finally {
      await jobs.stop(1000);
    }
  });
});
