import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { upsertRepository } from "../../../src/store/repositories.js";
import { createTask, transitionTask } from "../../../src/store/tasks.js";
import { payload } from "../../e2e/harness.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { type AppUnderTest, loadApp } from "./probot-harness.js";

describe("issue_comment.created", () => {
  let stub: GitHubStub;
  let app: AppUnderTest;
  const replies = () =>
    stub.requests
      .filter((r) => r.method === "POST" && r.path.endsWith("/issues/42/comments"))
      .map((r) => (r.body as { body: string }).body);
  const tasks = () => app.db.selectFrom("tasks").selectAll().execute();

  beforeEach(async () => {
    stub = await startGitHubStub({
      "POST /app/installations/:id/access_tokens": () => ({
        status: 201,
        body: { token: "ghs_test", expires_at: new Date(Date.now() + 3.6e6).toISOString() },
      }),
      "POST /repos/:owner/:repo/issues/:number/comments": () => ({ status: 201, body: { id: 1 } }),
    });
    app = await loadApp(stub);
  });
  afterEach(async () => {
    await app.db.destroy();
    await stub.close();
  });
  const permit = (role: string) =>
    stub.route("GET /repos/:owner/:repo/collaborators/:user/permission", () => ({
      body: { permission: role === "maintain" ? "write" : role, role_name: role },
    }));

  it("queues a task for a maintainer, reacts, replies and wakes the executor", async () => {
    permit("maintain");
    stub.route("POST /repos/:owner/:repo/issues/comments/:id/reactions", () => ({ status: 201, body: {} }));
    await app.receive("issue_comment", payload("issue_comment.created"));
    expect(await tasks()).toMatchObject([
      { issue_number: 42, state: "queued", agent: "command", instructions: "Keep the change small.", requested_by: "maintainer" },
    ]);
    expect(replies()).toEqual([expect.stringMatching(/^Queued task #1: `command`/)]);
    expect(app.enqueued()).toBe(1);
    expect(stub.unused()).toEqual([]);
  });

  it("uses the agent named with --agent, and lists the enabled ones for an unknown name", async () => {
    permit("admin");
    stub.route("POST /repos/:owner/:repo/issues/comments/:id/reactions", () => ({ status: 201, body: {} }));
    await app.receive(
      "issue_comment",
      payload("issue_comment.created", (p) => {
        p.comment.body = "/agent fix --agent gemini";
      }),
    );
    expect(replies()).toEqual(["Agent `gemini` is not enabled here. Enabled agents: command, codex."]);
    await app.receive(
      "issue_comment",
      payload("issue_comment.created", (p) => {
        p.comment.body = "/agent fix --agent codex";
      }),
    );
    expect(await tasks()).toMatchObject([{ agent: "codex" }]);
  });

  it("refuses a bot without asking GitHub for its permission", async () => {
    await app.receive(
      "issue_comment",
      payload("issue_comment.created", (p) => {
        p.comment.user = { login: "dependabot[bot]", type: "Bot" };
      }),
    );
    expect(replies()).toEqual([expect.stringContaining("bots cannot trigger agent work")]);
    expect(await tasks()).toEqual([]);
    expect(stub.requests.some((r) => r.path.includes("/permission"))).toBe(false);
  });

  it("refuses triage permission and ignores ordinary comments", async () => {
    permit("triage");
    await app.receive(
      "issue_comment",
      payload("issue_comment.created", (p) => {
        p.comment.body = "thanks!";
      }),
    );
    expect(replies()).toEqual([]);
    await app.receive("issue_comment", payload("issue_comment.created"));
    expect(replies()).toEqual([expect.stringContaining("@maintainer has triage permission")]);
    expect(await tasks()).toEqual([]);
  });

  it("answers on a closed issue and on a pull request without creating a task", async () => {
    permit("write");
    await app.receive(
      "issue_comment",
      payload("issue_comment.created", (p) => {
        p.issue.state = "closed";
      }),
    );
    await app.receive(
      "issue_comment",
      payload("issue_comment.created", (p) => {
        p.issue.pull_request = { url: "x" };
      }),
    );
    expect(replies()).toEqual([expect.stringContaining("This issue is closed"), expect.stringContaining("not on pull requests")]);
    expect(await tasks()).toEqual([]);
  });

  it("does not open more PRs than prConcurrentLimit allows", async () => {
    permit("write");
    const repo = await upsertRepository(app.db, { fullName: "octo-org/widgets", installationId: 77 });
    for (const n of [1, 2, 3]) {
      const { task } = await createTask(app.db, {
        repositoryId: repo.id,
        issueNumber: n,
        title: "t",
        requestedBy: "m",
        trigger: "comment",
      });
      await transitionTask(app.db, task.id, ["queued"], "pr_open", { pr_number: 100 + n });
    }
    await app.receive("issue_comment", payload("issue_comment.created"));
    expect(replies()).toEqual([expect.stringContaining("3 pull requests from backlog-bot are already open here (`prConcurrentLimit`: 3)")]);
    expect((await tasks()).length).toBe(3);
  });

  it("acts on a delivery id once", async () => {
    permit("write");
    stub.route("POST /repos/:owner/:repo/issues/comments/:id/reactions", () => ({ status: 201, body: {} }));
    await app.receive("issue_comment", payload("issue_comment.created"), "same-id");
    await app.receive("issue_comment", payload("issue_comment.created"), "same-id");
    expect((await tasks()).length).toBe(1);
    expect(replies().length).toBe(1);
  });
});
