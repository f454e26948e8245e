import type { Octokit } from "@octokit/rest";
import { afterEach, describe, expect, it } from "vitest";
import { lastValidConfig } from "../../../src/config/load.js";
import { createAgentRegistry } from "../../../src/executor/agents/registry.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import type { RequestDeps } from "../../../src/executor/requests.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import type { Jobs } from "../../../src/jobs/types.js";
import { handleDashboardJobs, syncDashboard } from "../../../src/scheduler/dashboard.js";
import { syncFindings } from "../../../src/store/findings.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask, getTask, transition } from "../../../src/store/tasks.js";
import { payload } from "../../e2e/harness.js";
import { keepIssues } from "../../fixtures/github-issue-state.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { backends } from "../../support/backends.js";
import { fastOctokit, silentLog } from "../support/env.js";
import { loadApp } from "./probot-harness.js";

const BOT = "backlog-bot[bot]";

let stub: GitHubStub | undefined;
let jobs: Jobs | undefined;
afterEach(async () => {
  await jobs?.stop(1_000);
  await stub?.close();
  jobs = stub = undefined;
});

describe("the dashboard after a maintainer closes the bot's pull request", () => {
  it("no longer lists it as a draft waiting for review, but as closed", async () => {
    stub = await startGitHubStub();
    const issues = keepIssues(stub, { botLogin: BOT });
    const [sqlite] = backends(); // SQLite: the dashboard job runs on the store's `jobs` table
    if (!sqlite) throw new Error("no SQLite backend");
    const store = await sqlite.fresh();
    const db = store.db;
    jobs = createSqliteJobs({ db, log: silentLog, pollMs: 20 });
    const requests: RequestDeps = {
      db,
      log: silentLog,
      jobs,
      agents: createAgentRegistry(loadAgentSettings({ BACKLOG_BOT_AGENTS: "command", BACKLOG_BOT_AGENT_COMMAND: "true" })),
      runner: { enqueue: async () => {}, abortLocal: () => false },
    };
    const app = await loadApp(stub, undefined, { requests }, store);
    const octokit = fastOctokit(stub.baseUrl) as unknown as Octokit;
    handleDashboardJobs(jobs, {
      db,
      access: { botIdentity: async () => ({ name: BOT }), octokit: async () => octokit } as never,
      log: silentLog,
    });
    const repository = await upsertRepository(db, { fullName: "octo-org/widgets", installationId: 77, defaultBranch: "main" });
    await syncFindings(
      db,
      repository.id,
      [{ kind: "todo", fingerprint: "f1", title: "handle EINTR", path: "src/a.ts", line: 3, signals: { marker: "FIXME" } }],
      { kinds: ["todo"] },
    );
    const finding = await db.selectFrom("findings").select("id").executeTakeFirstOrThrow();
    // A dashboard tick's task on the TODO opened draft #7: the dashboard lists it under its pull requests.
    const { task } = await createTask(db, {
      repositoryId: repository.id,
      findingId: finding.id,
      title: "handle EINTR",
      requestedBy: "ada",
      trigger: "dashboard",
    });
    await claimTask(db, task.id, "worker", 60_000);
    await transition(db, task.id, "pr_open", { actor: "worker", owner: "worker" }, { pr_number: 7 });
    await syncDashboard({ db, octokit, repository, config: lastValidConfig(repository), log: silentLog, botLogin: BOT });
    expect(issues[0]?.body).toMatch(/^- \[#7\]\(.*\) draft · handle EINTR/m);

    // Past the debounce, a maintainer closes #7 unmerged.
    await db
      .updateTable("repositories")
      .set({ dashboard_synced_at: new Date(Date.now() - 3_600_000).toISOString() })
      .execute();
    await app.receive(
      "pull_request",
      payload("pull_request.closed", (p) => {
        p.pull_request.merged = false;
        p.pull_request.merged_at = null;
      }),
    );
    expect((await getTask(db, task.id))?.state).toBe("closed");
    await jobs.start();
    await jobs.drain();
    expect(issues[0]?.body).not.toMatch(/^- \[#7\]\(.*\) draft/m);
    expect(issues[0]?.body).toMatch(/^- closed \[#7\]\(.*\) · handle EINTR/m);
  });
});
