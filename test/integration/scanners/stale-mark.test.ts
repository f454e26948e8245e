import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scanRepository } from "../../../src/scheduler/run-scan.js";
import { listOpenFindings } from "../../../src/store/findings.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { type GitHubStub, type StubRequest, startGitHubStub } from "../../fixtures/github-stub.js";
import { fastOctokit, silentLog, tempStore } from "../support/env.js";
import { makeIssues, routeConfig, routeIssues, type StubIssue } from "../support/issue-routes.js";

describe("marking stale issues (stale.mark) within operationsPerRun", () => {
  let stub: GitHubStub;
  let store: Awaited<ReturnType<typeof tempStore>>;
  let issues: StubIssue[];
  const now = new Date();
  const writes: StubRequest[] = [];

  beforeEach(async () => {
    stub = await startGitHubStub();
    store = await tempStore();
    issues = makeIssues(30, now);
    writes.length = 0;
    routeIssues(stub, issues, { statuses: [] });
    routeConfig(
      stub,
      () => "scanners: [stale]\nstale:\n  daysBeforeStale: 20\n  mark: true\n  operationsPerRun: 5\n  staleLabel: stale\n",
      {
        statuses: [],
      },
    );
    stub.route("POST /repos/:owner/:repo/issues/:number/labels", (req) => {
      writes.push(req);
      const issue = issues.find((i) => i.number === Number(req.params.number));
      issue?.labels.push({ name: "stale" });
      if (issue) issue.updated_at = new Date().toISOString();
      return { body: [] };
    });
    stub.route("POST /repos/:owner/:repo/issues/:number/comments", (req) => {
      writes.push(req);
      return { status: 201, body: { id: 1 } };
    });
  });
  afterEach(async () => {
    expect(stub.unused()).toEqual([]);
    await stub.close();
    await store.cleanup();
  });

  it("labels and comments the longest-idle issues first, never more writes than the budget; the rest next run", async () => {
    const repository = await upsertRepository(store.db, { fullName: "octo/small", installationId: 1 });
    const run = () =>
      scanRepository({
        db: store.db,
        api: fastOctokit(stub.baseUrl),
        repository,
        dataDir: store.dir,
        cacheScope: "installation:1",
        token: async () => undefined,
        log: silentLog,
        now,
      });
    const staleCount = issues.filter((i) => now.getTime() - Date.parse(i.updated_at) > 20 * 86_400_000).length;
    const oldest = [...issues]
      .sort((a, b) => a.updated_at.localeCompare(b.updated_at))
      .slice(0, 2)
      .map((i) => i.number);
    await run();
    // 5 operations: two issues (label + comment each) fit, a third would need 6.
    expect(writes).toHaveLength(4);
    const marked = writes.filter((w) => w.path.endsWith("/labels")).map((w) => Number(w.params.number));
    expect(marked).toEqual(oldest);
    expect(writes.filter((w) => w.path.endsWith("/labels")).map((w) => w.body)).toEqual([{ labels: ["stale"] }, { labels: ["stale"] }]);

    await run();
    expect(writes).toHaveLength(8);
    // Marked issues (now recently updated) stay stale by their label; none is marked twice.
    const all = writes.filter((w) => w.path.endsWith("/labels")).map((w) => w.params.number);
    expect(new Set(all).size).toBe(all.length);
    const findings = (await listOpenFindings(store.db, repository.id)).filter((f) => f.kind === "stale_issue");
    expect(findings).toHaveLength(staleCount);
  });
});
