import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scanRepository } from "../../../src/scheduler/run-scan.js";
import { listOpenFindings } from "../../../src/store/findings.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import type { Repository } from "../../../src/store/schema.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { productionOctokit, silentLog, tempStore } from "../support/env.js";
import { makeIssues, routeConfig, routeIssues, type StatusLog, type StubIssue, withEtag } from "../support/issue-routes.js";

const DAY = 24 * 60 * 60 * 1000;
const CONFIG =
  "scanners: [stale, issues, checks]\nstale:\n  daysBeforeStale: 90\n  exemptLabels: [Pinned]\n  exemptAllMilestones: true\n  exemptAssignees: [octocat]\n";

describe("stale and labelled-issue scans against a 1,000-issue repository", () => {
  let stub: GitHubStub;
  let store: Awaited<ReturnType<typeof tempStore>>;
  let issues: StubIssue[];
  let repository: Repository;
  const log: StatusLog = { statuses: [] };
  const now = new Date();

  beforeEach(async () => {
    stub = await startGitHubStub();
    store = await tempStore();
    issues = makeIssues(1000, now);
    log.statuses = [];
    routeIssues(stub, issues, log);
    routeConfig(stub, () => CONFIG, log);
    // The checks scanner's look at the default branch's head: nothing failing.
    stub.route("GET /repos/:owner/:repo/commits/:ref/check-runs", (req) => {
      const answer = log.ignoreEtags ? { body: { total_count: 0, check_runs: [] } } : withEtag(req, { total_count: 0, check_runs: [] });
      log.statuses.push(answer.status ?? 200);
      return answer;
    });
    repository = await upsertRepository(store.db, { fullName: "octo/big", installationId: 1, defaultBranch: "main" });
  });
  afterEach(async () => {
    expect(stub.unused()).toEqual([]);
    await stub.close();
    await store.cleanup();
  });

  // Through ProbotOctokit exactly as production builds it: throttling and retry on.
  const scan = () =>
    scanRepository({
      db: store.db,
      api: productionOctokit(stub.baseUrl),
      repository,
      dataDir: store.dir,
      cacheScope: "installation:1",
      token: async () => undefined,
      log: silentLog,
      now,
    });
  const expectedStale = () =>
    issues
      .filter((i) => i.state === "open")
      .filter((i) => now.getTime() - Date.parse(i.updated_at) > 90 * DAY)
      .filter((i) => !i.labels.some((l) => l.name === "pinned") && !i.milestone && !i.assignees.some((a) => a.login === "octocat"))
      .map((i) => i.number)
      .sort((a, b) => a - b);
  const expectedBugs = () =>
    issues
      .filter((i) => i.state === "open" && i.labels.some((l) => l.name === "bug"))
      .map((i) => i.number)
      .sort((a, b) => a - b);
  const open = async (kind: string) =>
    (await listOpenFindings(store.db, repository.id))
      .filter((f) => f.kind === kind)
      .map((f) => f.issue_number ?? 0)
      .sort((a, b) => a - b);

  it("first scan: at most 12 requests; second, unchanged: at most 3 not answered 304; a change is picked up", async () => {
    const first = await scan();
    expect(first.scanners.stale).toMatchObject({ added: expectedStale().length });
    expect(stub.requests.length).toBeLessThanOrEqual(12);
    expect(stub.requests.filter((r) => r.path.endsWith("/issues")).every((r) => r.query.get("per_page") === "100")).toBe(true);
    expect(await open("stale_issue")).toEqual(expectedStale());
    expect(await open("issue")).toEqual(expectedBugs());
    const firstCount = stub.requests.length;
    console.log(`first scan: ${firstCount} requests`);

    log.statuses = [];
    const second = await scan();
    const fresh = log.statuses.filter((s) => s !== 304).length;
    console.log(`second scan: ${log.statuses.length} requests, ${fresh} not answered 304`);
    expect(fresh).toBeLessThanOrEqual(3);
    expect(second.scanners.stale).toMatchObject({ added: 0, resolved: 0 });
    expect(await open("stale_issue")).toEqual(expectedStale());

    log.statuses = [];
    const third = await scan();
    expect(log.statuses.filter((s) => s !== 304)).toEqual([]);
    expect(third.notModified).toBe(log.statuses.length);

    // Someone comments on a stale issue and closes a bug: both leave the backlog on the next scan.
    const revived = expectedStale()[0] ?? 0;
    const closedBug = expectedBugs()[0] ?? 0;
    const touch = (n: number, patch: Partial<StubIssue>) => {
      const issue = issues.find((i) => i.number === n);
      if (issue) Object.assign(issue, { ...patch, updated_at: new Date(now.getTime() + 1000).toISOString() });
    };
    touch(revived, { comments: 9 });
    touch(closedBug, { state: "closed" });
    const fourth = await scan();
    expect(fourth.scanners.stale).toMatchObject({ resolved: 1 });
    expect(await open("stale_issue")).toEqual(expectedStale());
    expect(await open("issue")).toEqual(expectedBugs());
    expect(await open("stale_issue")).not.toContain(revived);
  });

  it("stays cheap when ETags stop matching (a rotated installation token): only what changed since is fetched", async () => {
    await scan();
    log.ignoreEtags = true;
    const before = stub.requests.length;
    const second = await scan();
    const issueRequests = stub.requests.slice(before).filter((r) => r.path.endsWith("/issues"));
    expect(stub.requests.length - before).toBeLessThanOrEqual(3);
    expect(issueRequests).toHaveLength(1);
    expect(issueRequests[0]?.query.get("since")).toBeTruthy();
    expect(second.scanners.stale).toMatchObject({ added: 0, resolved: 0 });
    expect(await open("stale_issue")).toEqual(expectedStale());
  });
});
