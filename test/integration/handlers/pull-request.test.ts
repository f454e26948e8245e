import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask, getTask, transition } from "../../../src/store/tasks.js";
import { type Payload, payload } from "../../e2e/harness.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { backends } from "../../support/backends.js";
import { type AppUnderTest, loadApp } from "./probot-harness.js";

describe.each(backends())("pull_request.closed on $name", (backend) => {
  let stub: GitHubStub;
  let app: AppUnderTest;
  let taskId: number;

  beforeEach(async () => {
    stub = await startGitHubStub();
    app = await loadApp(stub, undefined, {}, await backend.fresh());
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

  it("marks the task merged when its PR is merged", async () => {
    await app.receive("pull_request", payload("pull_request.closed"));
    expect((await getTask(app.db, taskId))?.state).toBe("merged");
  });

  it("marks the task closed when its PR is closed unmerged", async () => {
    await app.receive(
      "pull_request",
      payload("pull_request.closed", (p) => {
        p.pull_request.merged = false;
        p.pull_request.merged_at = null;
      }),
    );
    expect((await getTask(app.db, taskId))?.state).toBe("closed");
  });

  it("opens the task again when a maintainer reopens its closed PR, unless its issue has another open task by then", async () => {
    const closed = (p: Payload) => {
      p.pull_request.merged = false;
      p.pull_request.merged_at = null;
    };
    const reopened = (p: Payload) => {
      closed(p);
      p.action = "reopened";
      p.pull_request.state = "open";
    };
    await app.receive("pull_request", payload("pull_request.closed", closed));
    await app.receive("pull_request", payload("pull_request.closed", reopened));
    expect(await getTask(app.db, taskId)).toMatchObject({ state: "pr_open", pr_number: 7, ended_at: null });
    // Closed again, then the issue gets a new task: reopening the old PR leaves its task closed.
    await app.receive("pull_request", payload("pull_request.closed", closed));
    const repo = await upsertRepository(app.db, { fullName: "octo-org/widgets", installationId: 77 });
    const { task: next } = await createTask(app.db, {
      repositoryId: repo.id,
      issueNumber: 42,
      title: "t",
      requestedBy: "m",
      trigger: "comment",
    });
    await app.receive("pull_request", payload("pull_request.closed", reopened));
    expect((await getTask(app.db, taskId))?.state).toBe("closed");
    expect((await getTask(app.db, next.id))?.state).toBe("queued");
  });

  it("leaves tasks alone for pull requests that are not ours", async () => {
    await app.receive(
      "pull_request",
      payload("pull_request.closed", (p) => {
        p.pull_request.number = 99;
        p.number = 99;
      }),
    );
    expect((await getTask(app.db, taskId))?.state).toBe("pr_open");
    expect(stub.requests).toEqual([]);
  });
});
