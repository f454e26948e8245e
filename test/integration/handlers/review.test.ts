import { createHmac, randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FollowUpJob } from "../../../src/executor/follow-up-jobs.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask, transition } from "../../../src/store/tasks.js";
import { payload } from "../../e2e/harness.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { backends } from "../../support/backends.js";
import { type AppUnderTest, loadApp } from "./probot-harness.js";

/** Reviews and `/agent` comments on the bot's own pull request queue follow-ups (issue 10); everything else does not. */
describe.each(backends())("follow-up triggers on the bot's pull request on $name", (backend) => {
  let stub: GitHubStub;
  let app: AppUnderTest;
  let queued: { job: FollowUpJob; key: string }[];
  let taskId: number;
  let replies: string[];

  beforeEach(async () => {
    queued = [];
    replies = [];
    stub = await startGitHubStub({
      "POST /app/installations/:id/access_tokens": () => ({
        status: 201,
        body: { token: "ghs_test", expires_at: new Date(Date.now() + 3.6e6).toISOString() },
      }),
      "GET /repos/:owner/:repo/contents/:path": () => ({ status: 404, body: { message: "Not Found" } }),
      "GET /repos/:owner/:repo/issues/:number/comments": () => ({ body: [] }),
      "POST /repos/:owner/:repo/issues/:number/comments": (req) => {
        replies.push((req.body as { body: string }).body.replace(/\n\n<!-- backlog-bot:[^>]*-->$/, ""));
        return { status: 201, body: { id: replies.length } };
      },
      "POST /repos/:owner/:repo/issues/comments/:id/reactions": () => ({ status: 201, body: {} }),
    });
    app = await loadApp(
      stub,
      undefined,
      { followUps: { enqueue: async (job, key) => void queued.push({ job, key }) } },
      await backend.fresh(),
    );
    const repo = await upsertRepository(app.db, { fullName: "octo-org/widgets", installationId: 77 });
    const { task } = await createTask(app.db, { repositoryId: repo.id, issueNumber: 42, title: "t", requestedBy: "m", trigger: "comment" });
    await claimTask(app.db, task.id, "worker", 60_000);
    await transition(app.db, task.id, "pr_open", { actor: "worker", owner: "worker" }, { pr_number: 7 });
    taskId = task.id;
  });
  afterEach(async () => {
    await app.db.destroy();
    await stub.close();
  });
  const permit = (role: string) =>
    stub.route("GET /repos/:owner/:repo/collaborators/:user/permission", () => ({ body: { permission: role, role_name: role } }));

  it("queues a follow-up for a writer's review that requests changes, once per review", async () => {
    permit("write");
    await app.receive("pull_request_review", payload("pull_request_review.submitted"));
    expect(queued).toEqual([
      {
        job: {
          taskId,
          trigger: { type: "review", reviewId: 5501, state: "changes_requested" },
          actor: { login: "maintainer", isBot: false, canWrite: true },
        },
        key: "review:5501",
      },
    ]);
  });

  it("queues a comment-only review that says something, never a reply in an inline thread (signed webhooks)", async () => {
    permit("write");
    // GitHub records a reply in an inline thread as a COMMENTED review with an empty body whose comment replies.
    const inline: Record<string, { id: number; body: string; in_reply_to_id?: number }[]> = {
      "6001": [{ id: 1, body: "Agreed, thanks!", in_reply_to_id: 900 }],
      "6002": [{ id: 2, body: "This should also trim the name." }],
    };
    const read: string[] = [];
    stub.route("GET /repos/:owner/:repo/pulls/:number/reviews/:id/comments", (req) => {
      read.push(req.params.id ?? "");
      return { body: (inline[req.params.id ?? ""] ?? []).map((c) => ({ path: "src/greet.js", diff_hunk: "@@", ...c })) };
    });
    const signed = async (id: number, body: string | null) => {
      const text = JSON.stringify(
        payload("pull_request_review.submitted", (p) => {
          Object.assign(p.review, { id, body, state: "commented" });
        }),
      );
      const signature = `sha256=${createHmac("sha256", "test").update(text).digest("hex")}`;
      await app.probot.webhooks.verifyAndReceive({ id: randomUUID(), name: "pull_request_review", payload: text, signature } as never);
    };
    await signed(6001, "");
    await signed(6002, null);
    await signed(6003, "Please also handle the empty greeting.");
    expect(queued.map((q) => [q.key, q.job.trigger])).toEqual([
      ["review:6002", { type: "review", reviewId: 6002, state: "commented" }],
      ["review:6003", { type: "review", reviewId: 6003, state: "commented" }],
    ]);
    expect(read).toEqual(["6001", "6002"]); // a review with a body needs no request
  });

  it("ignores a reader's review, an approval, and reviews of pull requests that are not the bot's", async () => {
    permit("read");
    await app.receive("pull_request_review", payload("pull_request_review.submitted"));
    permit("write");
    await app.receive(
      "pull_request_review",
      payload("pull_request_review.submitted", (p) => {
        p.review.state = "approved";
      }),
    );
    await app.receive(
      "pull_request_review",
      payload("pull_request_review.submitted", (p) => {
        p.pull_request.number = 99;
      }),
    );
    expect(queued).toEqual([]);
  });

  it("turns `/agent fix <instructions>` on the bot's pull request into a follow-up with those instructions", async () => {
    permit("write");
    await app.receive(
      "issue_comment",
      payload("issue_comment.created", (p) => {
        p.issue.number = 7;
        p.issue.pull_request = { url: "x" };
        p.comment.body = "/agent fix handle the empty greeting too";
      }),
    );
    expect(queued).toEqual([
      expect.objectContaining({
        job: expect.objectContaining({
          taskId,
          trigger: { type: "comment", commentId: 3001 },
          instructions: "handle the empty greeting too",
        }),
        key: "comment:3001",
      }),
    ]);
    expect(replies).toEqual([
      `Queued a follow-up of task #${taskId}: a new commit on top of this pull request's branch, after what others pushed.`,
    ]);
  });

  it("answers `/agent dismiss` on the bot's pull request without queueing a follow-up", async () => {
    permit("write");
    await app.receive(
      "issue_comment",
      payload("issue_comment.created", (p) => {
        p.issue.number = 7;
        p.issue.pull_request = { url: "x" };
        p.comment.body = "/agent dismiss";
      }),
    );
    expect(queued).toEqual([]);
    expect(replies).toEqual(["`/agent dismiss` works on issues and on the dashboard's rows; on a pull request it does nothing."]);
  });

  it("queues one follow-up per failing check for red CI on the bot's PR head, never for its own check", async () => {
    stub.route("GET /repos/:owner/:repo/check-suites/:id/check-runs", () => ({
      body: {
        total_count: 3,
        check_runs: [
          { id: 1, name: "test", status: "completed", conclusion: "failure" },
          { id: 2, name: "backlog-bot / verify", status: "completed", conclusion: "failure" },
          { id: 3, name: "lint", status: "completed", conclusion: "success" },
        ],
      },
    }));
    const red = (patch: (suite: Record<string, unknown>) => void = () => {}) =>
      payload("check_suite.completed", (p) => {
        p.repository = payload("pull_request_review.submitted").repository; // the bot's PR lives in octo-org/widgets
        Object.assign(p.check_suite, { head_branch: "backlog-bot/issue-42-greeting", pull_requests: [{ number: 7 }] });
        patch(p.check_suite);
      });
    await app.receive("check_suite", red());
    const sha = payload("check_suite.completed").check_suite.head_sha;
    expect(queued).toEqual([
      { job: { taskId, trigger: { type: "ci", checkName: "test", headSha: sha }, actor: null }, key: `ci:${sha}:test` },
    ]);
    await app.receive(
      "check_suite",
      red((s) => {
        s.conclusion = "success";
      }),
    );
    await app.receive(
      "check_suite",
      red((s) => {
        s.pull_requests = [{ number: 99 }];
      }),
    );
    expect(queued).toHaveLength(1);
  });
});
