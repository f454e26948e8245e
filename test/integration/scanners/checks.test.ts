import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Probot } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CheckSignals } from "../../../src/scanners/checks.js";
import { getRepository } from "../../../src/store/repositories.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { createTestProbot, deliver, webhookFixture } from "../support/app.js";
import { tempStore } from "../support/env.js";

interface CheckRunPayload {
  check_run: {
    id: number;
    name: string;
    head_sha: string;
    conclusion: string | null;
    completed_at: string;
    check_suite: { head_branch: string };
  };
}
const JOB_LOG = [
  "2026-05-04T10:03:01.1234567Z ##[group]Run npm test",
  "2026-05-04T10:03:05.0000000Z FAIL test/parser.test.ts > parses nested lists",
  "2026-05-04T10:03:05.0000001Z AssertionError: expected [] to deeply equal [ 1 ]",
  "2026-05-04T10:03:11.0000000Z ##[error]Process completed with exit code 1.",
].join("\n");

describe("failing checks on the default branch", () => {
  let stub: GitHubStub;
  let logs: Server;
  let store: Awaited<ReturnType<typeof tempStore>>;
  let probot: Probot;

  beforeEach(async () => {
    stub = await startGitHubStub();
    // Where GitHub's 302 for a job log points: a separate host serving plain text.
    logs = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(JOB_LOG);
    });
    await new Promise<void>((resolve) => logs.listen(0, "127.0.0.1", resolve));
    const logUrl = `http://127.0.0.1:${(logs.address() as AddressInfo).port}/job.log`;
    stub.route("GET /repos/:owner/:repo/check-runs/:id/annotations", () => ({
      body: [
        { path: "src/parser.ts", start_line: 12, annotation_level: "failure", message: "expected [] to deeply equal [ 1 ]" },
        { path: ".github", start_line: 1, annotation_level: "failure", message: "Process completed with exit code 1." },
      ],
    }));
    stub.route("GET /repos/:owner/:repo/actions/jobs/:id/logs", () => ({ status: 302, headers: { location: logUrl } }));
    // Every commit these checks ran on is on main (the handler asks; a fork's commit is not: test/integration/handlers/checks.test.ts).
    stub.route("GET /repos/:owner/:repo/compare/:basehead", () => ({ body: { status: "behind", ahead_by: 0, commits: [] } }));
    store = await tempStore();
    probot = await createTestProbot({ baseUrl: stub.baseUrl, db: store.db });
  });
  afterEach(async () => {
    await stub.close();
    await new Promise((resolve) => logs.close(resolve));
    await store.cleanup();
  });

  const checkRun = (patch: { id: number; sha: string; conclusion: string; at: string; branch?: string; name?: string }) => {
    const payload = webhookFixture<CheckRunPayload>("check_run.completed");
    Object.assign(payload.check_run, { id: patch.id, head_sha: patch.sha, conclusion: patch.conclusion, completed_at: patch.at });
    if (patch.name) payload.check_run.name = patch.name;
    payload.check_run.check_suite.head_branch = patch.branch ?? "main";
    return deliver(probot, "check_run", payload);
  };
  const findings = async () => {
    const repo = await getRepository(store.db, "octo-org/hello-world");
    if (!repo) return [];
    return store.db.selectFrom("findings").selectAll().where("repository_id", "=", repo.id).where("kind", "=", "failing_check").execute();
  };
  const signals = (row: { signals: string } | undefined) => JSON.parse(row?.signals ?? "{}") as CheckSignals;

  it("fail -> finding with annotations and log; fail on the next commit -> the same finding; pass later -> resolved", async () => {
    await checkRun({ id: 1, sha: "a".repeat(40), conclusion: "failure", at: "2026-05-04T10:00:00Z" });
    let rows = await findings();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ title: "Failing check: test (20.x)", resolved_at: null });
    expect(rows[0]?.url).toContain("/job/");
    const first = signals(rows[0]);
    expect(first).toMatchObject({ checkName: "test (20.x)", headSha: "a".repeat(40), conclusion: "failure" });
    expect(first.flaky).toBeUndefined();
    expect(first.annotations).toEqual([
      "src/parser.ts:12: failure: expected [] to deeply equal [ 1 ]",
      ".github:1: failure: Process completed with exit code 1.",
    ]);
    expect(first.logExcerpt).toContain("AssertionError: expected [] to deeply equal [ 1 ]");
    expect(first.logExcerpt).not.toMatch(/^2026-/m);

    await checkRun({ id: 2, sha: "b".repeat(40), conclusion: "timed_out", at: "2026-05-04T11:00:00Z" });
    rows = await findings();
    expect(rows).toHaveLength(1);
    expect(signals(rows[0])).toMatchObject({ headSha: "b".repeat(40), conclusion: "timed_out" });

    // A success older than the recorded failure (a late delivery) changes nothing.
    await checkRun({ id: 3, sha: "9".repeat(40), conclusion: "success", at: "2026-05-04T09:00:00Z" });
    expect((await findings())[0]?.resolved_at).toBeNull();

    await checkRun({ id: 4, sha: "c".repeat(40), conclusion: "success", at: "2026-05-04T12:00:00Z" });
    rows = await findings();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.resolved_at).not.toBeNull();
  });

  it("fail then pass on the same commit -> flaky, still open; a later failure keeps the flag", async () => {
    const sha = "d".repeat(40);
    await checkRun({ id: 10, sha, conclusion: "failure", at: "2026-05-04T10:00:00Z" });
    await checkRun({ id: 11, sha, conclusion: "success", at: "2026-05-04T10:10:00Z" });
    let rows = await findings();
    expect(rows[0]?.resolved_at).toBeNull();
    expect(signals(rows[0]).flaky).toBe(true);
    await checkRun({ id: 12, sha: "e".repeat(40), conclusion: "failure", at: "2026-05-04T11:00:00Z" });
    rows = await findings();
    expect(signals(rows[0])).toMatchObject({ flaky: true, headSha: "e".repeat(40) });
  });

  it("pass then fail on the same commit (a re-run that failed) -> flaky", async () => {
    const sha = "f".repeat(40);
    await checkRun({ id: 20, sha, conclusion: "success", at: "2026-05-04T10:00:00Z" });
    await checkRun({ id: 21, sha, conclusion: "failure", at: "2026-05-04T10:10:00Z" });
    expect(signals((await findings())[0]).flaky).toBe(true);
  });

  it("ignores other branches, cancelled runs and redelivered outcomes", async () => {
    await checkRun({ id: 30, sha: "1".repeat(40), conclusion: "failure", at: "2026-05-04T10:00:00Z", branch: "feature" });
    await checkRun({ id: 31, sha: "1".repeat(40), conclusion: "cancelled", at: "2026-05-04T10:00:00Z" });
    expect(await findings()).toHaveLength(0);
    await checkRun({ id: 32, sha: "2".repeat(40), conclusion: "failure", at: "2026-05-04T10:00:00Z" });
    const fetches = () => stub.requests.filter((r) => !r.path.includes("/compare/")).length;
    const before = fetches();
    await checkRun({ id: 32, sha: "2".repeat(40), conclusion: "failure", at: "2026-05-04T10:00:00Z" });
    expect(fetches()).toBe(before);
    expect(await findings()).toHaveLength(1);
  });

  it("workflow_run.completed: each failing job is a check, on the same finding as its check_run", async () => {
    const sha = "d6fde92930d4715a2b49857d24b940956b26d2d3";
    stub.route("GET /repos/:owner/:repo/actions/runs/:id/jobs", () => ({
      body: {
        total_count: 2,
        jobs: [
          {
            id: 4242424242,
            name: "test (20.x)",
            head_sha: sha,
            status: "completed",
            conclusion: "failure",
            html_url: "https://github.com/j/1",
            completed_at: "2026-05-04T10:03:12Z",
          },
          {
            id: 4242424243,
            name: "lint",
            head_sha: sha,
            status: "completed",
            conclusion: "success",
            html_url: "https://github.com/j/2",
            completed_at: "2026-05-04T10:01:00Z",
          },
        ],
      },
    }));
    await deliver(probot, "workflow_run", webhookFixture("workflow_run.completed"));
    await deliver(probot, "check_run", webhookFixture("check_run.completed"));
    const rows = await findings();
    expect(rows.map((r) => r.title)).toEqual(["Failing check: test (20.x)"]);
    expect(signals(rows[0])).toMatchObject({ checkRunId: 4242424242, headSha: sha });
    expect(stub.requests.filter((r) => r.path.endsWith("/annotations"))).toHaveLength(1);
  });

  it("check_suite.completed: lists the suite's runs", async () => {
    const sha = "d6fde92930d4715a2b49857d24b940956b26d2d3";
    stub.route("GET /repos/:owner/:repo/check-suites/:id/check-runs", () => ({
      body: {
        total_count: 1,
        check_runs: [
          {
            id: 77,
            name: "build",
            head_sha: sha,
            status: "completed",
            conclusion: "startup_failure",
            html_url: "https://github.com/c/77",
            completed_at: "2026-05-04T10:03:12Z",
            app: { slug: "circleci" },
            output: { annotations_count: 0 },
          },
        ],
      },
    }));
    await deliver(probot, "check_suite", webhookFixture("check_suite.completed"));
    const rows = await findings();
    expect(rows.map((r) => r.title)).toEqual(["Failing check: build"]);
    expect(signals(rows[0]).logExcerpt).toBeUndefined();
  });
});
