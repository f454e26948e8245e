import { RequestError } from "@octokit/request-error";
import { Octokit } from "@octokit/rest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Verification } from "../../../src/executor/verify.js";
import { verifyCheckRunOutput } from "../../../src/executor/verify-report.js";
import { completeCheckRun, publishCheckRun, startCheckRun, VERIFY_CHECK_NAME } from "../../../src/github/check-runs.js";
import { type GitHubStub, type StubRequest, startGitHubStub } from "../../fixtures/github-stub.js";

const SHA = "a".repeat(40);
let stub: GitHubStub;
let octokit: Octokit;
/** Check runs the stub holds, as GitHub would list them. */
let runs: { id: number; name: string; external_id: string; head_sha: string; [k: string]: unknown }[];

beforeEach(async () => {
  runs = [];
  stub = await startGitHubStub({
    "GET /repos/:owner/:repo/commits/:ref/check-runs": (req) => {
      const found = runs.filter((r) => r.head_sha === req.params.ref && r.name === req.query.get("check_name"));
      return { body: { total_count: found.length, check_runs: found } };
    },
    "POST /repos/:owner/:repo/check-runs": (req) => {
      const run = { id: 100 + runs.length, ...(req.body as object) } as (typeof runs)[number];
      runs.push(run);
      return { status: 201, body: run };
    },
    "PATCH /repos/:owner/:repo/check-runs/:id": (req) => {
      const run = runs.find((r) => r.id === Number(req.params.id));
      if (!run) return { status: 404, body: { message: "Not Found" } };
      Object.assign(run, req.body);
      return { body: run };
    },
  });
  octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
});
afterEach(async () => {
  await stub.close();
});

const writes = (): StubRequest[] => stub.requests.filter((r) => r.method !== "GET");

const failed: Verification = {
  status: "failed",
  verified: false,
  reason: "1 new failure",
  source: "detected",
  command: "npm test",
  baseSha: "b".repeat(40),
  headTree: "c".repeat(40),
  head: {
    exitCode: 1,
    timedOut: false,
    failedStep: "command",
    durationMs: 1500,
    report: { format: "tap", passed: 3, failed: 1, skipped: 0, failures: ["add"] },
    tail: "not ok 1 - add",
  },
  base: {
    exitCode: 0,
    timedOut: false,
    failedStep: null,
    durationMs: 1400,
    report: { format: "tap", passed: 4, failed: 0, skipped: 0, failures: [] },
    tail: "",
  },
  baseCached: false,
  attributed: true,
  newFailures: ["add"],
  fixedFailures: [],
  preExistingFailures: [],
  proof: null,
  masking: [],
  durationMs: 3200,
};

describe("check runs", () => {
  it("publishes `backlog-bot / verify` on the head SHA with the conclusion, command, exit code, counts, duration and output tail", async () => {
    const { conclusion, ...output } = verifyCheckRunOutput(failed);
    const id = await publishCheckRun(octokit, {
      owner: "octo",
      repo: "calc",
      headSha: SHA,
      externalId: "task-1:round-1",
      conclusion,
      output,
    });
    expect(id).toBe(100);
    const [post] = writes();
    expect(post).toMatchObject({ method: "POST", path: "/repos/octo/calc/check-runs" });
    expect(post?.body).toMatchObject({
      name: VERIFY_CHECK_NAME,
      head_sha: SHA,
      external_id: "task-1:round-1",
      status: "completed",
      conclusion: "failure",
      output: {
        title: "❌ Not verified: npm test — 1 new failure (3 passed, 1 failed, exit 1, 1.5 s).",
        summary: expect.stringContaining("- New failures: `add`."),
        text: "Command: `npm test`\n\n```text\nnot ok 1 - add\n```",
      },
    });
  });

  it("updates the run a retried job already wrote instead of adding a second one", async () => {
    const input = {
      owner: "octo",
      repo: "calc",
      headSha: SHA,
      externalId: "task-1:round-1",
      conclusion: "success" as const,
      output: { title: "ok", summary: "ok" },
    };
    await publishCheckRun(octokit, input);
    const id = await publishCheckRun(octokit, { ...input, conclusion: "failure" });
    expect(runs).toHaveLength(1);
    expect(id).toBe(100);
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /repos/octo/calc/check-runs",
      "PATCH /repos/octo/calc/check-runs/100",
    ]);
    expect(runs[0]?.conclusion).toBe("failure");
  });

  it("starts a run as in progress and completes it with a neutral conclusion", async () => {
    const id = await startCheckRun(octokit, {
      owner: "octo",
      repo: "calc",
      headSha: SHA,
      externalId: "task-2:round-1",
      detailsUrl: "https://bot.example/tasks/2",
    });
    expect(runs[0]).toMatchObject({ id, status: "in_progress", details_url: "https://bot.example/tasks/2" });
    await completeCheckRun(octokit, {
      owner: "octo",
      repo: "calc",
      checkRunId: id,
      conclusion: "neutral",
      output: { title: "Not verified", summary: "x".repeat(70_000) },
    });
    expect(runs[0]).toMatchObject({ status: "completed", conclusion: "neutral" });
    expect((runs[0]?.output as { summary: string } | undefined)?.summary).toHaveLength(65_535);
  });

  it("lets GitHub's refusal reach the caller as a RequestError", async () => {
    stub.route("POST /repos/:owner/:repo/check-runs", () => ({ status: 403, body: { message: "Resource not accessible by integration" } }));
    const attempt = publishCheckRun(octokit, {
      owner: "octo",
      repo: "calc",
      headSha: SHA,
      externalId: "x",
      conclusion: "success",
      output: { title: "t", summary: "s" },
    });
    await expect(attempt).rejects.toBeInstanceOf(RequestError);
  });
});
