import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApiCheckRun } from "../../../src/scanners/checks.js";
import { scanRepository } from "../../../src/scheduler/run-scan.js";
import { listOpenFindings } from "../../../src/store/findings.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import type { Repository } from "../../../src/store/schema.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { fastOctokit, silentLog, tempStore } from "../support/env.js";
import { routeConfig, withEtag } from "../support/issue-routes.js";

describe("the scheduled checks scan (commits/{ref}/check-runs)", () => {
  let stub: GitHubStub;
  let store: Awaited<ReturnType<typeof tempStore>>;
  let repository: Repository;
  const now = new Date();
  const listings: number[] = [];

  const failingRun = (id: number, annotations: number): ApiCheckRun => ({
    id,
    name: `ci-${id}`,
    head_sha: "abc1234def",
    status: "completed",
    conclusion: "failure",
    html_url: `https://github.com/octo/repo/runs/${id}`,
    completed_at: now.toISOString(),
    app: { slug: "other-ci" },
    output: { annotations_count: annotations },
  });
  /** Serves `runs` 100 per page with a `Link` header and ETags, as GitHub does; records each answer's status. */
  const routeRuns = (runs: ApiCheckRun[]) =>
    stub.route("GET /repos/:owner/:repo/commits/:ref/check-runs", (req) => {
      const page = Number(req.query.get("page") ?? 1);
      const perPage = Number(req.query.get("per_page") ?? 30);
      const headers: Record<string, string> = {};
      if (page * perPage < runs.length) {
        const next = new URLSearchParams(req.query);
        next.set("page", String(page + 1));
        headers.link = `<${stub.baseUrl}${req.path}?${next}>; rel="next"`;
      }
      const answer = withEtag(req, { total_count: runs.length, check_runs: runs.slice((page - 1) * perPage, page * perPage) }, headers);
      listings.push(answer.status ?? 200);
      return answer;
    });
  const scan = () =>
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
  const openChecks = async () =>
    (await listOpenFindings(store.db, repository.id))
      .filter((f) => f.kind === "failing_check")
      .map((f) => f.fingerprint)
      .sort();

  beforeEach(async () => {
    stub = await startGitHubStub();
    store = await tempStore();
    listings.length = 0;
    routeConfig(stub, () => "scanners: [checks]\n", { statuses: [] });
    repository = await upsertRepository(store.db, { fullName: "octo/repo", installationId: 1, defaultBranch: "main" });
  });
  afterEach(async () => {
    expect(stub.unused()).toEqual([]);
    await stub.close();
    await store.cleanup();
  });

  it("annotations answering 500 once: no ETag is stored, the next scan records the remaining failing check", async () => {
    routeRuns([failingRun(1, 1), failingRun(2, 1)]);
    const annotationCalls: string[] = [];
    let failRun2 = true;
    stub.route("GET /repos/:owner/:repo/check-runs/:id/annotations", (req) => {
      annotationCalls.push(req.params.id ?? "");
      if (failRun2 && req.params.id === "2") {
        failRun2 = false;
        return { status: 500, body: { message: "Server Error" } };
      }
      return { body: [{ path: "src/a.ts", start_line: 3, annotation_level: "failure", message: "boom" }] };
    });

    const first = await scan();
    expect(first.scanners.checks).toMatchObject({ error: "Server Error" });
    expect(await openChecks()).toEqual(["failing_check:ci-1"]);

    await scan();
    await scan();
    expect(await openChecks()).toEqual(["failing_check:ci-1", "failing_check:ci-2"]);
    // The second scan listed the runs again (200); the third, with everything recorded, got a 304.
    expect(listings).toEqual([200, 200, 304]);
    // Run 1, recorded by the first scan, cost nothing more.
    expect(annotationCalls).toEqual(["1", "2", "2"]);
  });

  it("a run whose annotations keep failing (404) does not keep the others from being recorded", async () => {
    routeRuns([failingRun(1, 1), failingRun(2, 1)]);
    stub.route("GET /repos/:owner/:repo/check-runs/:id/annotations", (req) =>
      req.params.id === "1" ? { status: 404, body: { message: "Not Found" } } : { body: [] },
    );
    const report = await scan();
    expect(report.scanners.checks).toMatchObject({ error: "Not Found" });
    expect(await openChecks()).toEqual(["failing_check:ci-2"]);
    await scan();
    expect(listings).toEqual([200, 200]); // still unrecorded, so never a 304
  });

  it("reads every page of check runs, not only the first 100", async () => {
    routeRuns(Array.from({ length: 150 }, (_, i) => failingRun(i + 1, 0)));
    const report = await scan();
    expect(report.scanners.checks).toEqual({ stored: "by scanner" });
    expect(await openChecks()).toHaveLength(150);
    expect(await openChecks()).toContain("failing_check:ci-150");
    expect(listings).toEqual([200, 200]);
    // An unchanged head costs one 304 next time.
    await scan();
    expect(listings).toEqual([200, 200, 304]);
  });
});
