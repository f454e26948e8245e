import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask, getTask, transition } from "../../../src/store/tasks.js";
import { payload } from "../../e2e/harness.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { backends } from "../../support/backends.js";
import { type AppUnderTest, loadApp } from "./probot-harness.js";

describe.each(backends())("issue_comment.created on $name", (backend) => {
  let stub: GitHubStub;
  let app: AppUnderTest;
  let posted: Array<{ id: number; body: string }>;
  const replies = () => posted.map((c) => c.body.replace(/\n\n<!-- backlog-bot:[^>]*-->$/, ""));
  const tasks = () => app.db.selectFrom("tasks").selectAll().execute();

  beforeEach(async () => {
    posted = [];
    stub = await startGitHubStub({
      "POST /app/installations/:id/access_tokens": () => ({
        status: 201,
        body: { token: "ghs_test", expires_at: new Date(Date.now() + 3.6e6).toISOString() },
      }),
      // Comments are kept, so that a reply already posted is found by its marker.
      "GET /repos/:owner/:repo/issues/:number/comments": () => ({ body: posted }),
      "POST /repos/:owner/:repo/issues/:number/comments": (req) => {
        const comment = {
          id: posted.length + 1,
          body: (req.body as { body: string }).body,
          user: { login: "backlog-bot[bot]", type: "Bot" },
        };
        posted.push(comment);
        return { status: 201, body: comment };
      },
      "POST /repos/:owner/:repo/issues/comments/:id/reactions": () => ({ status: 201, body: {} }),
    });
    app = await loadApp(stub, undefined, {}, await backend.fresh());
  });
  afterEach(async () => {
    await app.db.destroy();
    await stub.close();
  });
  const permit = (role: string) =>
    stub.route("GET /repos/:owner/:repo/collaborators/:user/permission", () => ({
      body: { permission: role === "maintain" ? "write" : role, role_name: role },
    }));
  const command = (body: string, patch: (p: Record<string, never>) => void = () => {}) =>
    payload("issue_comment.created", (p) => {
      p.comment.body = body;
      patch(p as never);
    });

  it("queues a task for a maintainer, reacts, replies and queues its run", async () => {
    permit("maintain");
    await app.receive("issue_comment", payload("issue_comment.created"));
    expect(await tasks()).toMatchObject([
      {
        issue_number: 42,
        state: "queued",
        agent: "command",
        instructions: "Keep the change small.",
        requested_by: "maintainer",
        trigger_comment_id: 3001,
      },
    ]);
    // The prompt is built from the issue as it was when the comment was written.
    expect((await tasks())[0]?.requested_at).toBe(payload("issue_comment.created").comment.created_at);
    expect(replies()).toEqual([expect.stringMatching(/^Queued task #1: `command`/)]);
    expect(app.enqueued()).toBe(1);
    expect(stub.requests.filter((r) => r.path.endsWith("/reactions"))).toHaveLength(1);
  });

  it("uses the agent named with --agent, and lists the enabled ones for an unknown name", async () => {
    permit("admin");
    await app.receive("issue_comment", command("/agent fix --agent gemini"));
    expect(replies()).toEqual(["Agent `gemini` is not enabled here. Enabled agents: command, codex."]);
    await app.receive("issue_comment", command("/agent fix --agent codex"));
    expect(await tasks()).toMatchObject([{ agent: "codex" }]);
  });

  it("quotes an unknown command word inertly: a backtick in it cannot end the code span and ping a team", async () => {
    permit("admin");
    await app.receive("issue_comment", command("/agent x`@org/security-team`#12"));
    const [reply] = replies();
    expect(reply).toMatch(/^Unknown command `\/agent xˋ@org\/security-teamˋ#12`\./);
    expect(await tasks()).toEqual([]);
  });

  it("refuses a bot without asking GitHub for its permission", async () => {
    await app.receive(
      "issue_comment",
      payload("issue_comment.created", (p) => {
        p.comment.body = "/agent fix";
        p.comment.user = { login: "dependabot[bot]", type: "Bot" };
      }),
    );
    expect(replies()).toEqual([expect.stringContaining("bots cannot trigger agent work")]);
    expect(await tasks()).toEqual([]);
    expect(stub.requests.some((r) => r.path.includes("/permission"))).toBe(false);
  });

  it("refuses triage permission, and a non-collaborator (GitHub's 404), and ignores ordinary comments", async () => {
    permit("triage");
    await app.receive("issue_comment", command("thanks!"));
    expect(replies()).toEqual([]);
    await app.receive("issue_comment", payload("issue_comment.created"));
    expect(replies()).toEqual([expect.stringContaining("@maintainer has triage permission")]);
    stub.route("GET /repos/:owner/:repo/collaborators/:user/permission", () => ({ status: 404, body: { message: "Not Found" } }));
    await app.receive("issue_comment", payload("issue_comment.created"));
    expect(replies()[1]).toContain("@maintainer is not a collaborator");
    expect(await tasks()).toEqual([]);
    // Each refusal is one audit row: who, what, where, why.
    expect(await app.db.selectFrom("audit").select(["actor", "action", "repository", "target", "outcome"]).orderBy("id").execute()).toEqual(
      [
        { actor: "maintainer", action: "command.fix", repository: "octo-org/widgets", target: "issue#42", outcome: "refused" },
        { actor: "maintainer", action: "command.fix", repository: "octo-org/widgets", target: "issue#42", outcome: "refused" },
      ],
    );
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
    expect(replies()).toEqual([
      expect.stringContaining("This issue is closed"),
      expect.stringContaining("on other pull requests they do nothing"),
    ]);
    expect(await tasks()).toEqual([]);
  });

  it("counts queued, running and open tasks against prConcurrentLimit", async () => {
    permit("write");
    const repo = await upsertRepository(app.db, { fullName: "octo-org/widgets", installationId: 77 });
    for (const n of [1, 2, 3])
      await createTask(app.db, { repositoryId: repo.id, issueNumber: n, title: "t", requestedBy: "m", trigger: "comment" });
    await app.receive("issue_comment", payload("issue_comment.created"));
    expect(replies()).toEqual([
      expect.stringContaining("3 tasks of backlog-bot are already queued, running or waiting for review here (`prConcurrentLimit`: 3)"),
    ]);
    expect((await tasks()).length).toBe(3);
  });

  it("answers a second /agent fix with the open PR's link instead of starting again", async () => {
    permit("write");
    await app.receive("issue_comment", payload("issue_comment.created"));
    const [task] = await tasks();
    await claimTask(app.db, task?.id ?? 0, "w", 60_000);
    await transition(
      app.db,
      task?.id ?? 0,
      "pr_open",
      { actor: "worker", owner: "w" },
      { pr_number: 7, pr_url: "https://github.com/octo-org/widgets/pull/7" },
    );
    // A new comment (a new id) asking again.
    await app.receive(
      "issue_comment",
      payload("issue_comment.created", (p) => void Object.assign(p.comment, { id: 3002 })),
    );
    expect(replies()[1]).toBe(
      "Task #1 for this issue is already pr open: its draft pull request is https://github.com/octo-org/widgets/pull/7. No second one was started.",
    );
    expect(await tasks()).toHaveLength(1);
    expect(app.enqueued()).toBe(1);
  });

  it("cancels a queued task at once and asks a running one to stop", async () => {
    permit("write");
    await app.receive("issue_comment", payload("issue_comment.created"));
    await app.receive("issue_comment", command("/agent cancel"));
    expect(await getTask(app.db, 1)).toMatchObject({ state: "cancelled", cancel_requested_by: "maintainer" });
    // The cancel of a queued task is said by the task's own reply, posted by its job.
    expect(JSON.parse((await getTask(app.db, 1))?.reply_pending ?? "{}").body).toBe("Task #1 was cancelled by @maintainer.");

    const repo = await upsertRepository(app.db, { fullName: "octo-org/widgets" });
    const { task } = await createTask(app.db, { repositoryId: repo.id, issueNumber: 42, title: "t", requestedBy: "m", trigger: "comment" });
    await claimTask(app.db, task.id, "worker-1", 60_000);
    await app.receive("issue_comment", command("/agent cancel"));
    expect(await getTask(app.db, task.id)).toMatchObject({ state: "running", cancel_requested_by: "maintainer" });
    expect(app.aborted).toEqual([task.id]);
    expect(replies().at(-1)).toBe(`Stopping task #${task.id}: its agent and everything it started are being stopped.`);
  });

  it("answers a cancel on the issue of a running follow-up round with the pull request where the round's end is said", async () => {
    permit("write");
    const repo = await upsertRepository(app.db, { fullName: "octo-org/widgets" });
    const { task } = await createTask(app.db, { repositoryId: repo.id, issueNumber: 42, title: "t", requestedBy: "m", trigger: "comment" });
    // The task opened pull request #7, and a follow-up round of it (a review, red CI) is running.
    await claimTask(app.db, task.id, "worker-1", 60_000);
    const pr = { pr_number: 7, pr_url: "https://github.com/octo-org/widgets/pull/7" };
    await transition(app.db, task.id, "pr_open", { actor: "worker", owner: "worker-1" }, pr);
    await claimTask(app.db, task.id, "worker-2", 60_000, { followUp: true });
    await app.receive("issue_comment", command("/agent cancel"));
    expect(await getTask(app.db, task.id)).toMatchObject({ state: "running", cancel_requested_by: "maintainer", ...pr });
    expect(app.aborted).toEqual([task.id]);
    const answers = posted.filter((c) => c.body.includes("Stopping task"));
    expect(answers.map((c) => c.body.replace(/\n\n<!-- backlog-bot:[^>]*-->$/, ""))).toEqual([
      `Stopping task #${task.id}: its agent and everything it started are being stopped. It is running a follow-up round of pull request #7, so its end is said there.`,
    ]);
    // Said on the issue the command came from.
    expect(stub.requests.filter((r) => r.method === "POST" && r.path.endsWith("/comments")).map((r) => r.path)).toEqual([
      "/repos/octo-org/widgets/issues/42/comments",
    ]);
  });

  it("retries the last failed task as a new attempt, and says why it will not retry an open one", async () => {
    permit("write");
    await app.receive("issue_comment", command("/agent retry"));
    expect(replies()).toEqual(["There is no earlier task on this issue to retry; use `/agent fix`."]);
    await app.receive("issue_comment", payload("issue_comment.created"));
    await app.receive("issue_comment", command("/agent retry"));
    expect(replies()[2]).toContain("Task #1 is queued; only a failed, cancelled or no-change task can be retried.");
    await claimTask(app.db, 1, "w", 60_000);
    await transition(app.db, 1, "failed", { actor: "worker", owner: "w" }, { error: "boom" });
    await app.receive("issue_comment", command("/agent retry"));
    expect(replies()[3]).toBe("Retrying task #1.");
    expect(await getTask(app.db, 1)).toMatchObject({ state: "queued", attempts: 0, error: null });
    expect(app.enqueued()).toBe(2);
  });

  it("dismisses the issue's findings for good with /agent dismiss", async () => {
    permit("write");
    const repo = await upsertRepository(app.db, { fullName: "octo-org/widgets", installationId: 77 });
    const at = new Date().toISOString();
    await app.db
      .insertInto("findings")
      .values({
        repository_id: repo.id,
        fingerprint: "issue:42",
        kind: "stale_issue",
        title: "t",
        issue_number: 42,
        signals: "{}",
        first_seen_at: at,
        last_seen_at: at,
      })
      .execute();
    await app.receive("issue_comment", command("/agent dismiss"));
    expect(await app.db.selectFrom("findings").select(["dismissed_by"]).where("fingerprint", "=", "issue:42").execute()).toEqual([
      { dismissed_by: "maintainer" },
    ]);
    expect(replies()[0]).toMatch(/^Dismissed: this issue is out of backlog-bot's backlog/);
    await app.receive("issue_comment", command("/agent dismiss"));
    expect(replies()[1]).toContain("nothing changed");
  });

  it("records the workflow named with --workflow, and refuses one the repository does not define", async () => {
    permit("write");
    await app.receive("issue_comment", command("/agent fix --workflow thorough"));
    expect(replies()[0]).toBe("Workflow `thorough` is not defined in .github/backlog-bot.yml. Defined workflows: none.");
    expect(await tasks()).toEqual([]);
    stub.route("GET /repos/:owner/:repo/contents/:path", () => ({
      body: "workflows:\n  thorough:\n    steps:\n      - agent: command\n        role: implement\n",
    }));
    await app.receive("issue_comment", command("/agent fix --workflow thorough --agent codex keep it small"));
    expect(await tasks()).toMatchObject([{ workflow: "thorough", agent: "codex", instructions: "keep it small" }]);
  });

  it("lists the commands, agents and limits for /agent and /agent help", async () => {
    permit("write");
    await app.receive("issue_comment", command("/agent"));
    await app.receive("issue_comment", command("/agent help"));
    expect(replies()).toHaveLength(2);
    for (const reply of replies()) {
      expect(reply).toContain("`/agent cancel`");
      expect(reply).toContain("Agents enabled here: `command`, `codex`");
      expect(reply).toContain("`prHourlyLimit`");
    }
  });

  it("acts on a delivery id once and answers it once, even when its job runs again", async () => {
    permit("write");
    await app.receive("issue_comment", payload("issue_comment.created"), "same-id");
    await app.receive("issue_comment", payload("issue_comment.created"), "same-id");
    expect((await tasks()).length).toBe(1);
    expect(replies()).toEqual([expect.stringMatching(/^Queued task #1/)]);
  });

  it("answers 'Queued' when its job runs again after the task was created but before the answer was posted", async () => {
    permit("write");
    let failNext = true;
    stub.route("POST /repos/:owner/:repo/issues/:number/comments", (req) => {
      if (failNext) {
        failNext = false;
        return { status: 502, body: { message: "Bad Gateway" } };
      }
      const comment = { id: posted.length + 1, body: (req.body as { body: string }).body };
      posted.push(comment);
      return { status: 201, body: comment };
    });
    await expect(app.receive("issue_comment", payload("issue_comment.created"), "d-1")).rejects.toThrow();
    expect(await tasks()).toHaveLength(1);
    await app.receive("issue_comment", payload("issue_comment.created"), "d-1");
    expect(replies()).toEqual([expect.stringMatching(/^Queued task #1: `command`/)]);
    // A different comment asking again is told the task exists.
    await app.receive(
      "issue_comment",
      payload("issue_comment.created", (p) => void Object.assign(p.comment, { id: 4000 })),
      "d-2",
    );
    expect(replies()[1]).toMatch(/^Task #1 for this issue is already queued/);
  });

  it("holds back a flood of requests at prHourlyLimit and says so to each", async () => {
    permit("write");
    stub.route("GET /repos/:owner/:repo/contents/:path", () => ({ body: "prHourlyLimit: 2\nprConcurrentLimit: 0\n" }));
    for (let n = 1; n <= 30; n++)
      await app.receive(
        "issue_comment",
        payload("issue_comment.created", (p) => {
          p.issue.number = 100 + n;
        }),
      );
    expect(await tasks()).toHaveLength(2);
    expect(app.enqueued()).toBe(2);
    const held = posted.filter((c) => c.body.includes("(`prHourlyLimit`: 2)"));
    expect(held).toHaveLength(28);
  });
});
