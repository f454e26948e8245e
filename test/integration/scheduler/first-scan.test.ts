import type { Octokit } from "@octokit/rest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../../src/config/schema.js";
import { DASHBOARD_MARKER } from "../../../src/dashboard/index.js";
import type { GitHubAccess } from "../../../src/github/access.js";
import { onRepositoriesAdded } from "../../../src/handlers/installation.js";
import type { HandlerDeps } from "../../../src/handlers/types.js";
import { syncDashboard } from "../../../src/scheduler/dashboard.js";
import { createScheduler, type Scheduler } from "../../../src/scheduler/scheduler.js";
import { syncFindings } from "../../../src/store/findings.js";
import { getRepository } from "../../../src/store/repositories.js";
import { type KeptIssue, keepIssues } from "../../fixtures/github-issue-state.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { fastOctokit, silentLog, tempStore } from "../support/env.js";

const BOT = "backlog-bot[bot]";

/** Installing the app scans at once (no waiting for the daily slot), and the scan's end renders the dashboard. */
describe("first scan on installation", () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  let stub: GitHubStub;
  let issues: KeptIssue[];
  let scheduler: Scheduler;
  const scanned: string[] = [];

  beforeEach(async () => {
    store = await tempStore();
    stub = await startGitHubStub();
    issues = keepIssues(stub, { botLogin: BOT });
    const octokit = fastOctokit(stub.baseUrl) as unknown as Octokit;
    const access: GitHubAccess = {
      octokit: async () => octokit,
      token: async () => "unused",
      botIdentity: async () => ({ name: BOT, email: "bot@example.com" }),
    };
    scheduler = createScheduler({
      db: store.db,
      access,
      dataDir: store.dir,
      log: silentLog,
      // The scan itself is the scanners' business (tested there): here it finds two TODOs.
      runScan: async (repository) => {
        scanned.push(repository.full_name);
        const todo = (n: number) => ({
          kind: "todo" as const,
          fingerprint: `f${n}`,
          title: `work ${n}`,
          path: `a${n}.ts`,
          line: 1,
          signals: {},
        });
        await syncFindings(store.db, repository.id, [todo(1), todo(2)], { kinds: ["todo"] });
        return undefined;
      },
      afterScan: async (repository) => {
        await syncDashboard({ db: store.db, octokit, repository, config: DEFAULT_CONFIG, log: silentLog, botLogin: BOT });
      },
    });
  });
  afterEach(async () => {
    await scheduler.stop();
    await stub.close();
    await store.cleanup();
  });

  it("scans each added repository right away and creates its dashboard with the ranked rows", async () => {
    const deps = { db: store.db, scheduler } as unknown as HandlerDeps;
    const context = { payload: { action: "created", installation: { id: 7 }, repositories: [{ full_name: "o/r" }] } };
    await onRepositoriesAdded(context as never, deps, silentLog);
    await scheduler.onIdle();
    expect(scanned).toEqual(["o/r"]);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.body.startsWith(DASHBOARD_MARKER)).toBe(true);
    expect(issues[0]?.body).toContain("work 1");
    expect((await getRepository(store.db, "o/r"))?.dashboard_issue_number).toBe(issues[0]?.number);
  });
});
