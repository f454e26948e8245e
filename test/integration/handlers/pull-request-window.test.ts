import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createCommandAgent } from "../../../src/executor/agents/command.js";
import { TaskRunner } from "../../../src/executor/task-jobs.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import type { JobContext } from "../../../src/jobs/types.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask, getTask } from "../../../src/store/tasks.js";
import { makeRemote, payload } from "../../e2e/harness.js";
import { testExecutorDeps } from "../../fixtures/executor-deps.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { silentLog } from "../support/env.js";
import { type AppUnderTest, loadApp } from "./probot-harness.js";

/**
 * The window between the worker opening its draft PR and recording the PR's number on the task
 * (the run still publishes its check run, then ends `pr_open`): a maintainer closing the PR right
 * away must still end the task. The real worker (a command agent, a file:// remote) and the real
 * app on one SQLite store; the stub's "create pull request" delivers the close before it answers.
 */
describe("pull_request.closed before the task recorded its pull request", () => {
  let dir: string;
  let stub: GitHubStub;
  let app: AppUnderTest;

  beforeAll(() => {
    process.env.BACKLOG_BOT_SANDBOX = "off"; // the sandbox has its own tests; this one is about the PR's close
  });
  afterAll(() => {
    delete process.env.BACKLOG_BOT_SANDBOX;
  });
  afterEach(async () => {
    await app.db.destroy();
    await stub.close();
    removeDir(dir);
  });

  it("ends the task closed, with its PR recorded, not pr_open for good", async () => {
    dir = makeTempDir("backlog-bot-pr-window-");
    const remote = makeRemote(dir, { "greet.js": 'export const greet = () => console.log("Hello world");\n' });
    const script = path.join(dir, "agent.mjs");
    writeFileSync(
      script,
      `import { readFileSync, writeFileSync } from "node:fs";
writeFileSync("greet.js", readFileSync("greet.js", "utf8").replace("Hello world", "Hello, world!"));
console.log("Added the comma.");
`,
    );
    const closes: string[] = [];
    stub = await startGitHubStub({
      "GET /repos/:owner/:repo/issues/:number": () => ({
        body: { number: 42, title: "Greeting is missing punctuation", body: "It should print `Hello, world!`.", state: "open" },
      }),
      "GET /repos/:owner/:repo/issues/:number/comments": () => ({ body: [] }),
      "GET /repos/:owner/:repo/issues/:number/events": () => ({ body: [] }),
      // The issue as it was when asked: no edits since.
      "POST /api/graphql": () => ({
        body: { data: { repository: { issue: { lastEditedAt: null, userContentEdits: { totalCount: 0, nodes: [] } } } } },
      }),
      "GET /repos/:owner/:repo/pulls": () => ({ body: [] }),
      "POST /repos/:owner/:repo/pulls": async (req) => {
        const head = (req.body as { head: string }).head;
        // A maintainer closes the new PR at once; GitHub's webhook is handled before the worker records it.
        await app.receive(
          "pull_request",
          payload("pull_request.closed", (p) => {
            p.pull_request.merged = false;
            p.pull_request.merged_at = null;
            p.pull_request.head.ref = head;
          }),
        );
        closes.push(head);
        return { status: 201, body: { number: 7, html_url: "https://github.com/octo-org/widgets/pull/7" } };
      },
      "GET /repos/:owner/:repo/commits/:ref/check-runs": () => ({ body: { total_count: 0, check_runs: [] } }),
      "POST /repos/:owner/:repo/check-runs": () => ({ status: 201, body: { id: 1 } }),
    });
    app = await loadApp(stub);
    const repo = await upsertRepository(app.db, {
      fullName: "octo-org/widgets",
      installationId: 77,
      cloneUrl: `file://${remote}`,
      defaultBranch: "main",
    });
    const { task } = await createTask(app.db, {
      repositoryId: repo.id,
      issueNumber: 42,
      title: "Greeting is missing punctuation",
      requestedBy: "maintainer",
      trigger: "comment",
    });
    const agent = { ...createCommandAgent(`${process.execPath} ${script}`), name: "command" };
    const deps = {
      ...testExecutorDeps({
        db: app.db,
        dataDir: app.dataDir,
        agents: { enabled: ["command"], get: (name) => (name === "command" ? agent : undefined) },
        baseUrl: stub.baseUrl,
      }),
      jobs: createSqliteJobs({ db: app.db, log: silentLog }),
    };
    const runner = new TaskRunner(deps);
    await (runner as unknown as { runJob(id: number, ctx: JobContext): Promise<void> }).runJob(task.id, {
      log: deps.log,
      signal: new AbortController().signal,
    } as unknown as JobContext);

    expect(await getTask(app.db, task.id)).toMatchObject({ error: null });
    expect(closes).toEqual(["backlog-bot/issue-42-greeting-is-missing-punctuation"]);
    const after = await getTask(app.db, task.id);
    expect(after).toMatchObject({
      state: "closed",
      pr_number: 7,
      pr_url: "https://github.com/octo-org/widgets/pull/7",
      branch: "backlog-bot/issue-42-greeting-is-missing-punctuation",
      lease_owner: null,
    });
    expect(after?.ended_at).not.toBeNull();
  });

  it("leaves the running task alone when the closed PR with its branch name comes from a fork", async () => {
    dir = makeTempDir("backlog-bot-pr-window-");
    stub = await startGitHubStub();
    app = await loadApp(stub);
    const repo = await upsertRepository(app.db, { fullName: "octo-org/widgets", installationId: 77 });
    const { task } = await createTask(app.db, { repositoryId: repo.id, issueNumber: 42, title: "t", requestedBy: "m", trigger: "comment" });
    await claimTask(app.db, task.id, "worker", 60_000);
    // What `push` records before the PR is opened.
    const branch = "backlog-bot/issue-42-greeting-is-missing-punctuation";
    await app.db
      .updateTable("tasks")
      .set({ branch, pushed_sha: "a".repeat(40) })
      .where("id", "=", task.id)
      .execute();
    await app.receive(
      "pull_request",
      payload("pull_request.closed", (p) => {
        p.pull_request.merged = false;
        p.pull_request.merged_at = null;
        p.pull_request.number = 8;
        p.pull_request.head.ref = branch;
        p.pull_request.head.repo.id = 987654321;
        p.pull_request.head.repo.full_name = "someone/widgets";
      }),
    );
    expect(await getTask(app.db, task.id)).toMatchObject({ state: "running", pr_number: null });
  });
});
