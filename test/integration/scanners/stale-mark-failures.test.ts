import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RequestBudget } from "../../../src/github/http.js";
import { scanRepository } from "../../../src/scheduler/run-scan.js";
import { listOpenFindings } from "../../../src/store/findings.js";
import { listIssueSnapshots } from "../../../src/store/issue-snapshots.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import type { Repository } from "../../../src/store/schema.js";
import { type GitHubStub, type StubResponse, startGitHubStub } from "../../fixtures/github-stub.js";
import { fastOctokit, silentLog, tempStore } from "../support/env.js";
import { makeIssues, routeConfig, routeIssues, type StubIssue } from "../support/issue-routes.js";

describe("marking stale issues when a write fails", () => {
  let stub: GitHubStub;
  let store: Awaited<ReturnType<typeof tempStore>>;
  let repository: Repository;
  let issues: StubIssue[];
  let mark: boolean;
  /** Overrides a write's answer for one issue: `(kind, number) => answer | undefined`. */
  let fail: (kind: "label" | "comment", issueNumber: number) => StubResponse | undefined;
  const labelled: number[] = [];
  const commented: number[] = [];
  const now = new Date();

  beforeEach(async () => {
    stub = await startGitHubStub();
    store = await tempStore();
    issues = makeIssues(30, now); // issue n idle n days: 21..30 stale after 20 days, #30 the oldest
    mark = false;
    fail = () => undefined;
    labelled.length = 0;
    commented.length = 0;
    routeIssues(stub, issues, { statuses: [] });
    routeConfig(
      stub,
      () => `scanners: [stale]\nstale:\n  daysBeforeStale: 20\n  mark: ${mark}\n  operationsPerRun: 4\n  staleLabel: stale\n`,
      { statuses: [] },
    );
    stub.route("POST /repos/:owner/:repo/issues/:number/labels", (req) => {
      const issue = issues.find((i) => i.number === Number(req.params.number));
      if (!issue) return { status: 410, body: { message: "This issue was deleted" } };
      const failed = fail("label", issue.number);
      if (failed) return failed;
      labelled.push(issue.number);
      issue.labels.push({ name: "stale" });
      issue.updated_at = new Date().toISOString();
      return { body: [{ name: "stale" }] };
    });
    stub.route("POST /repos/:owner/:repo/issues/:number/comments", (req) => {
      const issue = issues.find((i) => i.number === Number(req.params.number));
      if (!issue) return { status: 410, body: { message: "This issue was deleted" } };
      const failed = fail("comment", issue.number);
      if (failed) return failed;
      commented.push(issue.number);
      issue.updated_at = new Date().toISOString(); // a comment is activity, as on GitHub
      return { status: 201, body: { id: 1 } };
    });
    repository = await upsertRepository(store.db, { fullName: "octo/small", installationId: 1, defaultBranch: "main" });
  });
  afterEach(async () => {
    await stub.close();
    await store.cleanup();
  });

  const scan = (at: Date = now, budget?: RequestBudget) =>
    scanRepository({
      db: store.db,
      api: fastOctokit(stub.baseUrl),
      repository,
      dataDir: store.dir,
      cacheScope: "installation:1",
      token: async () => undefined,
      log: silentLog,
      now: at,
      ...(budget && { budget }),
    });
  const staleFindings = async () =>
    (await listOpenFindings(store.db, repository.id))
      .filter((f) => f.kind === "stale_issue")
      .map((f) => f.issue_number)
      .sort((a, b) => (a ?? 0) - (b ?? 0));
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it("a deleted issue (a write answered 410) is dropped and the scan goes on: findings stored, the next issue marked", async () => {
    await scan();
    expect(await staleFindings()).toEqual(range(21, 30));
    issues.splice(
      issues.findIndex((i) => i.number === 30),
      1,
    ); // deleted: the `since` listing never says so
    mark = true;

    const second = await scan();
    expect(second.scanners.stale).not.toHaveProperty("error");
    expect(await staleFindings()).toEqual(range(21, 29)); // #30's finding resolved
    expect(labelled).toEqual([29]); // 1 failed write + 2 for #29 within operationsPerRun 4
    expect(commented).toEqual([29]);
    expect((await listIssueSnapshots(store.db, repository.id)).map((i) => i.number)).not.toContain(30);

    const third = await scan(new Date(now.getTime() + 3_600_000));
    expect(third.scanners.stale).not.toHaveProperty("error");
    expect(labelled).toEqual([29, 28, 27]); // no write for #30 again
    expect(commented).toEqual([29, 28, 27]);
  });

  it("a comment that fails with a 5xx leaves the issue unlabelled, so the next run comments and labels it", async () => {
    mark = true;
    fail = (kind, n) => (kind === "comment" && n === 30 ? { status: 502, body: { message: "Bad Gateway" } } : undefined);
    expect((await scan()).scanners.stale).toMatchObject({ error: "Bad Gateway" });
    // Labelled first, #30 would carry the label with no comment, and every later run would skip it.
    expect(labelled).toEqual([]);
    fail = () => undefined;
    expect((await scan(new Date(now.getTime() + 1000))).scanners.stale).not.toHaveProperty("error");
    expect(commented).toEqual([30, 29]);
    expect(labelled).toEqual([30, 29]);
  });

  it("a label that fails after its comment leaves an active issue: it is not commented on again", async () => {
    mark = true;
    fail = (kind, n) => (kind === "label" && n === 30 ? { status: 502, body: { message: "Bad Gateway" } } : undefined);
    expect((await scan()).scanners.stale).toMatchObject({ error: "Bad Gateway" });
    expect(commented).toEqual([30]);
    fail = () => undefined;
    await scan(new Date(now.getTime() + 1000));
    expect(commented.filter((n) => n === 30)).toEqual([30]);
    expect(labelled).not.toContain(30);
    expect(await staleFindings()).not.toContain(30); // the comment made it active again
  });

  it("a locked issue (comment answered 403) still gets the label, as in actions/stale; a label answered 422 skips that issue only; findings stay", async () => {
    mark = true;
    fail = (kind, n) => {
      if (kind === "comment" && n === 30) return { status: 403, body: { message: "Unable to create comment because issue is locked." } };
      if (kind === "label" && n === 29) return { status: 422, body: { message: "Validation Failed" } };
      return undefined;
    };
    const report = await scan();
    expect(report.scanners.stale).not.toHaveProperty("error");
    expect(await staleFindings()).toEqual(range(21, 30));
    // #30: failed comment + label; #29: comment + failed label; 4 of 4 operations used, no room for #28.
    expect(labelled).toEqual([30]);
    expect(commented).toEqual([29]);
  });

  it("a request budget with room for the label only marks nothing: every labelled issue gets its comment", async () => {
    mark = true;
    // The config, one page of issues, then one request left: not enough for label and comment.
    const tight = await scan(now, new RequestBudget(3));
    expect(tight.scanners.stale).not.toHaveProperty("error");
    expect(tight.requests).toBe(2);
    expect(labelled).toEqual([]);
    expect(await staleFindings()).toEqual(range(21, 30));

    for (let k = 1; k <= 10; k++) await scan(new Date(now.getTime() + k * 1000));
    expect(labelled).toEqual(expect.arrayContaining(range(21, 30)));
    expect(commented).toEqual(labelled);
  });

  it("other errors (a 5xx, a secondary rate limit) still fail the scanner", async () => {
    mark = true;
    fail = (kind) => (kind === "label" ? { status: 502, body: { message: "Bad Gateway" } } : undefined);
    expect((await scan()).scanners.stale).toMatchObject({ error: "Bad Gateway" });
    fail = (kind) =>
      kind === "label"
        ? { status: 403, headers: { "retry-after": "60" }, body: { message: "You have exceeded a secondary rate limit." } }
        : undefined;
    expect((await scan()).scanners.stale).toMatchObject({ error: expect.stringMatching(/secondary rate limit/) });
  });
});
