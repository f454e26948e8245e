import { readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Octokit } from "@octokit/rest";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCommandAgent } from "../../../src/executor/agents/command.js";
import { runFollowUpSteps } from "../../../src/executor/follow-up.js";
import { pullRequestBody } from "../../../src/executor/pull-request.js";
import type { TaskRun } from "../../../src/executor/run-task.js";
import type { Verification } from "../../../src/executor/verify.js";
import { verificationLine } from "../../../src/executor/verify-report.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask } from "../../../src/store/tasks.js";
import { testExecutorDeps } from "../../fixtures/executor-deps.js";
import { type CommitAuthor, cloneBare, commitFiles, git, makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { nodeRepo } from "./verify-fixtures.js";

/** Fixes `sub` when run (the follow-up's agent). */
const AGENT = `
import { writeFileSync } from "node:fs";
writeFileSync("src/calc.js", "exports.add = (a, b) => a + b;\\nexports.sub = (a, b) => a - b;\\n");
console.log("fixed sub after the review");
`;
const REVIEWER: CommitAuthor = { name: "Rita Reviewer", email: "rita@example.com", date: "2024-03-02T12:00:00Z" };
const BOT: CommitAuthor = { name: "backlog-bot[bot]", email: "1+backlog-bot[bot]@users.noreply.github.com", date: "2024-03-01T13:00:00Z" };

let dir: string;
let db: Db;
let stub: GitHubStub;
let checkRuns: Record<string, unknown>[];
let comments: string[];
/** The PR's body as the stub holds it: the first run's, with a person's note added; PATCH replaces it. */
let prBody: string;
const HUMAN_NOTE = "Reviewer's note: keep the public API unchanged.";

beforeAll(() => {
  process.env.BACKLOG_BOT_SANDBOX = "off";
});
afterAll(() => {
  delete process.env.BACKLOG_BOT_SANDBOX;
});
beforeEach(async () => {
  dir = makeTempDir();
  db = await openDb(path.join(dir, "data"));
  checkRuns = [];
  comments = [];
  prBody = `${pullRequestBody({
    ...{ owner: "octo", repo: "calc", branch: "backlog-bot/issue-1-sub", base: "main", taskId: 1, issueNumber: 1 },
    ...{ title: "sub subtracts", requestedBy: "maintainer", instructions: null, agent: "command", summary: "first try" },
    ...{ notes: ["Verification took 2 rounds (round 1: failed, round 2: failed)."], figures: null, diffStat: "NOTES.md | 1 +" },
    verification: {
      section: "### Verification\n\n❌ Not verified: `npm test` — 1 failure (FIRST-RUN-EVIDENCE).",
      headline: "> [!WARNING]\n> **The repository's tests do not pass with this change:** FIRST-RUN-WARNING.",
    },
  })}\n\n${HUMAN_NOTE}`;
  stub = await startGitHubStub({
    "GET /repos/:owner/:repo/issues/:number/comments": () => ({ body: [] }),
    "GET /repos/:owner/:repo/pulls/:number": () => ({ body: { number: 7, title: "sub subtracts", state: "open", body: prBody } }),
    "PATCH /repos/:owner/:repo/pulls/:number": (req) => {
      prBody = (req.body as { body: string }).body;
      return { body: { number: 7, body: prBody } };
    },
    "GET /repos/:owner/:repo/pulls/:number/files": () => ({
      body: [{ filename: "NOTES.md", status: "added", additions: 1, deletions: 0 }],
    }),
    "GET /repos/:owner/:repo/commits/:ref/check-runs": () => ({ body: { total_count: 0, check_runs: [] } }),
    "POST /repos/:owner/:repo/check-runs": (req) => {
      checkRuns.push(req.body as Record<string, unknown>);
      return { status: 201, body: { id: 1 } };
    },
    "POST /repos/:owner/:repo/issues/:number/comments": (req) => {
      comments.push((req.body as { body: string }).body);
      return { status: 201, body: { id: 9 } };
    },
  });
});
afterEach(async () => {
  await db.destroy();
  await stub.close();
  removeDir(dir);
});

describe("runFollowUpSteps", () => {
  it("adds a new commit on top of the PR branch, keeping the reviewer's own commit, and reports the verification", async () => {
    // main has the bug; the bot's PR branch holds a change that did not fix it; the reviewer pushed a commit on top.
    const fixture = nodeRepo();
    git(fixture.dir, ["checkout", "-q", "-b", "backlog-bot/issue-1-sub"]);
    commitFiles(fixture.dir, { "NOTES.md": "bot's first try\n" }, BOT, "bot: first try");
    const reviewerCommit = commitFiles(fixture.dir, { "REVIEW.md": "please fix sub\n" }, REVIEWER, "review: note");
    git(fixture.dir, ["checkout", "-q", "main"]);
    const remote = cloneBare(fixture.dir);

    const script = path.join(dir, "agent.mjs");
    writeFileSync(script, AGENT);
    const repo = await upsertRepository(db, { fullName: "octo/calc", installationId: 1, cloneUrl: remote, defaultBranch: "main" });
    const { task } = await createTask(db, {
      repositoryId: repo.id,
      issueNumber: 1,
      title: "sub subtracts",
      requestedBy: "maintainer",
      trigger: "cli",
    });
    await db
      .updateTable("tasks")
      .set({ state: "pr_open", pr_number: 7, branch: "backlog-bot/issue-1-sub" })
      .where("id", "=", task.id)
      .execute();
    const claimed = await claimTask(db, task.id, "worker-1", 60_000, { followUp: true });
    expect(claimed?.state).toBe("running");
    const agent = createCommandAgent(`${process.execPath} ${script}`);
    const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
    const deps = testExecutorDeps({
      db,
      dataDir: path.join(dir, "data"),
      agents: { enabled: ["command"], get: () => agent },
      baseUrl: stub.baseUrl,
      bot: { name: BOT.name, email: BOT.email },
    });
    const log = deps.log;
    const run: TaskRun = {
      deps,
      task: claimed ?? task,
      repo,
      owner: "worker-1",
      signal: new AbortController().signal,
      log,
      github: { owner: "octo", name: "calc", octokit },
      branch: "backlog-bot/issue-1-sub",
      notes: [],
    };

    const end = await runFollowUpSteps(run, { pullNumber: 7, reason: { type: "comment" }, baseBranch: "main", earlierRounds: [] });

    expect(end).toMatchObject({ state: "pr_open", pr: { number: 7 } });
    const log1 = git(remote, ["log", "--format=%H %an", "backlog-bot/issue-1-sub"]).trim().split("\n");
    expect(log1).toHaveLength(4); // base, bot's first try, reviewer's commit, the follow-up
    expect(log1[0]).toBe(`${run.commitSha} ${BOT.name}`);
    expect(git(remote, ["rev-parse", `${run.commitSha}^`]).trim()).toBe(reviewerCommit); // on top: not a force-push
    expect(git(remote, ["show", "backlog-bot/issue-1-sub:REVIEW.md"])).toBe("please fix sub\n");
    // Verified against main (where sub fails), not against the branch tip.
    expect(run.verification).toMatchObject({ status: "passed", baseSha: fixture.baseSha, fixedFailures: ["test > sub"] });
    expect(checkRuns).toEqual([expect.objectContaining({ head_sha: run.commitSha, conclusion: "success" })]);
    // The comment saying what was pushed is the end's report, for the caller to say (and owe if GitHub refuses it).
    expect(end).toMatchObject({
      report: expect.stringMatching(/^Follow-up by `command`: pushed \w{7} on top of \w{7}\.\n\n✅ Verified: `npm test`/),
    });
    expect(comments).toEqual([]);
    // The PR body now shows this follow-up's evidence, not the first run's; the person's note stays.
    expect(prBody).toContain(verificationLine(run.verification as Verification));
    expect(prBody).toContain(`_Evidence of commit \`${run.commitSha?.slice(0, 7)}\` (the latest follow-up)._`);
    expect(prBody).toContain("- Latest follow-up, after `/agent fix`, by `command`");
    expect(prBody).not.toMatch(/FIRST-RUN-EVIDENCE|FIRST-RUN-WARNING|Verification took 2 rounds/);
    expect(prBody).toContain("### What the agent reported\n> first try");
    expect(prBody.endsWith(HUMAN_NOTE)).toBe(true);
    expect(readdirSync(path.join(dir, "data", "homes"))).toEqual([]);
  });
});
