import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scanRepository } from "../../../src/scheduler/run-scan.js";
import { listOpenFindings } from "../../../src/store/findings.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import type { Repository } from "../../../src/store/schema.js";
import { type GitHubStub, type RouteHandler, startGitHubStub } from "../../fixtures/github-stub.js";
import { fastOctokit, silentLog, tempStore } from "../support/env.js";
import { makeIssues, routeConfig, routeIssues, type StatusLog, type StubIssue } from "../support/issue-routes.js";

/** `routeIssues`'s handler, to wrap with a failure. */
function issuesHandler(baseUrl: string, issues: StubIssue[], log: StatusLog): RouteHandler {
  let handler: RouteHandler | undefined;
  const capture = {
    baseUrl,
    route: (_key: string, h: RouteHandler) => {
      handler = h;
    },
  } as unknown as GitHubStub;
  routeIssues(capture, issues, log);
  if (!handler) throw new Error("routeIssues registered no route");
  return handler;
}

describe("the `since` issue listing when a page after the first fails", () => {
  let stub: GitHubStub;
  let store: Awaited<ReturnType<typeof tempStore>>;
  const now = new Date();

  beforeEach(async () => {
    stub = await startGitHubStub();
    store = await tempStore();
  });
  afterEach(async () => {
    await stub.close();
    await store.cleanup();
  });

  it("a 502 on page 2 stores no ETag for page 1: the next scan gets the listing again and applies every change", async () => {
    const issues = makeIssues(300, now);
    const log: StatusLog = { statuses: [] };
    const serve = issuesHandler(stub.baseUrl, issues, log);
    let failPage2 = false;
    stub.route("GET /repos/:owner/:repo/issues", (req) => {
      if (failPage2 && req.query.get("since") && req.query.get("page") === "2") {
        failPage2 = false;
        return { status: 502, body: { message: "Bad Gateway" } };
      }
      return serve(req);
    });
    routeConfig(stub, () => "scanners: [stale]\nstale:\n  daysBeforeStale: 30\n", { statuses: [] });
    const repository: Repository = await upsertRepository(store.db, { fullName: "octo/big", installationId: 1, defaultBranch: "main" });
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
    const staleFindings = async () => (await listOpenFindings(store.db, repository.id)).filter((f) => f.kind === "stale_issue").length;

    await scan();
    expect(await staleFindings()).toBe(270); // issues 31..300 idle for more than 30 days

    // 150 stale issues are closed: the `since` listing has two pages.
    for (let n = 101; n <= 250; n++) {
      const issue = issues[n - 1] as StubIssue;
      issue.state = "closed";
      issue.updated_at = new Date(now.getTime() + 1000 + n).toISOString();
    }
    failPage2 = true;
    const failed = await scan();
    expect(failed.scanners.stale).toMatchObject({ error: "Bad Gateway" });
    expect(await staleFindings()).toBe(270);

    log.statuses = [];
    const retried = await scan();
    expect(log.statuses).toEqual([200, 200]); // both pages again, no 304 for page 1
    expect(retried.scanners.stale).toMatchObject({ resolved: 150 });
    expect(await staleFindings()).toBe(120);

    // The cursor moved: one page from the new `since`, whose ETag is stored; then unchanged costs a 304.
    log.statuses = [];
    await scan();
    expect(log.statuses).toEqual([200]);
    log.statuses = [];
    await scan();
    expect(log.statuses).toEqual([304]);
    expect(await staleFindings()).toBe(120);
  });
});
