import type { Octokit } from "@octokit/rest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lastValidConfig } from "../../../src/config/load.js";
import { createAgentRegistry } from "../../../src/executor/agents/registry.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import { cancelTask, type RequestDeps, requestTask } from "../../../src/executor/requests.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import type { Jobs } from "../../../src/jobs/types.js";
import { handleDashboardJobs } from "../../../src/scheduler/dashboard.js";
import { syncFindings } from "../../../src/store/findings.js";
import { getRepositoryById, upsertRepository } from "../../../src/store/repositories.js";
import { type KeptIssue, keepIssues } from "../../fixtures/github-issue-state.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { fastOctokit, silentLog, tempStore } from "../support/env.js";

const BOT = "backlog-bot[bot]";

describe("a finding's queued task cancelled from the web or the API", () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  let stub: GitHubStub;
  let jobs: Jobs;
  let issues: KeptIssue[];
  beforeEach(async () => {
    store = await tempStore();
    stub = await startGitHubStub();
    issues = keepIssues(stub, { botLogin: BOT });
    jobs = createSqliteJobs({ db: store.db, log: silentLog, pollMs: 20 });
  });
  afterEach(async () => {
    await jobs.stop(1_000);
    await stub.close();
    await store.cleanup();
  });

  it("says its end on the dashboard, the only place a dashboard tick's task on a TODO is reported", async () => {
    const octokit = fastOctokit(stub.baseUrl) as unknown as Octokit;
    handleDashboardJobs(jobs, {
      db: store.db,
      access: { botIdentity: async () => ({ name: BOT }), octokit: async () => octokit } as never,
      log: silentLog,
    });
    const repository = await upsertRepository(store.db, { fullName: "o/r", installationId: 1, defaultBranch: "main" });
    await syncFindings(
      store.db,
      repository.id,
      [{ kind: "todo", fingerprint: "f1", title: "handle EINTR", path: "src/a.ts", line: 3, signals: { marker: "FIXME" } }],
      { kinds: ["todo"] },
    );
    const finding = await store.db.selectFrom("findings").select("id").executeTakeFirstOrThrow();
    const requests: RequestDeps = {
      db: store.db,
      log: silentLog,
      jobs,
      agents: createAgentRegistry(loadAgentSettings({ BACKLOG_BOT_AGENTS: "command", BACKLOG_BOT_AGENT_COMMAND: "true" })),
      runner: { enqueue: async () => {}, abortLocal: () => false },
    };
    const started = await requestTask(requests, {
      repository,
      config: lastValidConfig(repository),
      findingId: finding.id,
      title: "handle EINTR",
      requestedBy: "ada",
      trigger: "dashboard",
    });
    if (started.kind !== "queued") throw new Error(`not queued: ${started.kind}`);
    await jobs.start();
    await jobs.drain();
    expect(issues).toHaveLength(1);
    expect(issues[0]?.body).toMatch(/^- queued · .*handle EINTR/m);

    // Past the dashboard's debounce (`dashboardMinIntervalS`), a maintainer cancels it from the web page.
    await store.db
      .updateTable("repositories")
      .set({ dashboard_synced_at: new Date(Date.now() - 3_600_000).toISOString() })
      .execute();
    const task = started.task;
    expect(await cancelTask(requests, task, "ada")).toMatchObject({ ok: true });
    await jobs.drain();
    expect(issues[0]?.body).not.toMatch(/^- queued · /m);
    expect(issues[0]?.body).toMatch(/^- cancelled · .*handle EINTR/m);
    expect((await getRepositoryById(store.db, repository.id))?.dashboard_issue_number).toBe(issues[0]?.number);
  });
});
