import type { Octokit } from "@octokit/rest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lastValidConfig } from "../../../src/config/load.js";
import { syncDashboard } from "../../../src/scheduler/dashboard.js";
import { scanRepository } from "../../../src/scheduler/run-scan.js";
import { getRepositoryById, upsertRepository } from "../../../src/store/repositories.js";
import type { Repository } from "../../../src/store/schema.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { productionOctokit, silentLog, tempStore } from "../support/env.js";
import { makeIssues, routeConfig, routeIssues, type StatusLog, type StubIssue } from "../support/issue-routes.js";

const MINUTE = 60_000;
const BOT = "backlog-bot[bot]";

/**
 * Issue 9's API budget: a repository with 1,000 open issues and the dashboard on makes at most 3
 * requests an hour that GitHub does not answer `304 Not Modified` when nothing changes — counting
 * the hourly scan (issue listing and config, conditional) and a dashboard sync every minute.
 */
describe("API cost of scans plus the dashboard, 1,000 open issues, nothing changing", () => {
  let stub: GitHubStub;
  let store: Awaited<ReturnType<typeof tempStore>>;
  let issues: StubIssue[];
  let repository: Repository;
  const log: StatusLog = { statuses: [] };
  const start = new Date();
  const at = (minutes: number) => new Date(start.getTime() + minutes * MINUTE);

  beforeEach(async () => {
    stub = await startGitHubStub();
    store = await tempStore();
    issues = makeIssues(1000, start);
    routeIssues(stub, issues, log);
    routeConfig(stub, () => "scanners: [stale, issues]\n", log);
    // The dashboard issue lands in the same issue list the scans read.
    stub.route("POST /repos/:owner/:repo/issues", (req) => {
      const body = req.body as { title: string; body: string };
      const issue = {
        number: issues.length + 1,
        title: body.title,
        body: body.body,
        html_url: `https://github.com/octo/big/issues/${issues.length + 1}`,
        user: { login: BOT },
        state: "open" as const,
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
        labels: [],
        assignees: [],
        milestone: null,
        comments: 0,
        reactions: { total_count: 0 },
      };
      issues.push(issue);
      return { status: 201, body: issue };
    });
    stub.route("PATCH /repos/:owner/:repo/issues/:number", (req) => {
      const issue = issues.find((i) => i.number === Number(req.params.number));
      if (!issue) return { status: 404, body: { message: "Not Found" } };
      Object.assign(issue, req.body as object, { updated_at: new Date().toISOString() });
      return { body: issue };
    });
    repository = await upsertRepository(store.db, { fullName: "octo/big", installationId: 1, defaultBranch: "main" });
  });
  afterEach(async () => {
    await stub.close();
    await store.cleanup();
  });

  const api = () => productionOctokit(stub.baseUrl);
  const scan = (now: Date) =>
    scanRepository({
      db: store.db,
      api: api(),
      repository,
      dataDir: store.dir,
      cacheScope: "installation:1",
      token: async () => undefined,
      log: silentLog,
      now,
    });
  const sync = async (now: Date) => {
    const fresh = (await getRepositoryById(store.db, repository.id)) ?? repository;
    return syncDashboard({
      db: store.db,
      octokit: api() as unknown as Octokit,
      repository: fresh,
      config: lastValidConfig(fresh),
      log: silentLog,
      now,
      botLogin: BOT,
    });
  };

  it("makes at most 3 non-304 requests in an hour", async () => {
    await scan(at(0));
    expect((await sync(at(0))).kind).toBe("created");
    await scan(at(10)); // sees the dashboard issue appear, once
    await sync(at(10));
    const requests = stub.requests.length;
    const notModified = log.statuses.filter((s) => s === 304).length;
    for (let minute = 11; minute <= 70; minute++) {
      if (minute === 70) await scan(at(minute));
      expect((await sync(at(minute))).kind).toBe("unchanged");
    }
    const sent = stub.requests.length - requests;
    const answered304 = log.statuses.filter((s) => s === 304).length - notModified;
    expect(answered304).toBeGreaterThan(0); // the hourly scan did ask GitHub, conditionally
    expect(sent - answered304).toBeLessThanOrEqual(3);
    expect(issues.filter((i) => i.user.login === BOT)).toHaveLength(1);
  });
});
