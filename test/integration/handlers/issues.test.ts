import type { Octokit } from "@octokit/rest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../../src/config/schema.js";
import { syncDashboard } from "../../../src/scheduler/dashboard.js";
import { syncFindings } from "../../../src/store/findings.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import type { Repository } from "../../../src/store/schema.js";
import { type KeptIssue, keepIssues } from "../../fixtures/github-issue-state.js";
import { type GitHubStub, type StubRequest, startGitHubStub } from "../../fixtures/github-stub.js";
import { backends } from "../../support/backends.js";
import { fastOctokit, silentLog } from "../support/env.js";
import { type AppUnderTest, loadApp } from "./probot-harness.js";

const BOT = "backlog-bot[bot]";

describe.each(backends())("issues events on $name", (backend) => {
  let stub: GitHubStub;
  let app: AppUnderTest;
  let issues: KeptIssue[];
  let repository: Repository;
  const comments: { issue: number; body: string }[] = [];
  const roles = new Map<string, string>();
  const tasks = () => app.db.selectFrom("tasks").selectAll().orderBy("id").execute();
  const findings = () => app.db.selectFrom("findings").selectAll().orderBy("id").execute();
  const base = {
    repository: { full_name: "o/r", name: "r", owner: { login: "o" }, default_branch: "main", clone_url: "https://github.com/o/r.git" },
    installation: { id: 1 },
  };
  const issuePayload = (issue: KeptIssue) => ({
    ...issue,
    html_url: `https://github.com/o/r/issues/${issue.number}`,
    labels: issue.labels.map((name) => ({ name })),
    updated_at: new Date().toISOString(),
    created_at: "2026-01-01T00:00:00Z",
  });
  /** A person ticks boxes on the dashboard: GitHub stores the new body and sends `issues.edited`. */
  const tick = async (login: string, ids: string[], from?: string) => {
    const dashboard = issues[0] as KeptIssue;
    const before = from ?? dashboard.body;
    let after = before;
    for (const id of ids) after = after.replace(`- [ ] <!-- bb:${id} -->`, `- [x] <!-- bb:${id} -->`);
    dashboard.body = after;
    await app.receive("issues", {
      action: "edited",
      issue: issuePayload(dashboard),
      changes: { body: { from: before } },
      sender: { login, type: "User" },
      ...base,
    });
    return { before, after };
  };

  beforeEach(async () => {
    comments.length = 0;
    roles.clear();
    stub = await startGitHubStub({
      "POST /app/installations/:id/access_tokens": () => ({
        status: 201,
        body: { token: "ghs_test", expires_at: new Date(Date.now() + 3.6e6).toISOString() },
      }),
      "GET /repos/:owner/:repo/collaborators/:user/permission": (req: StubRequest) => {
        const role = roles.get(req.params.user ?? "") ?? "read";
        return { body: { permission: role === "maintain" ? "write" : role, role_name: role } };
      },
      "GET /repos/:owner/:repo/issues/:number/comments": (req: StubRequest) => ({
        body: comments.filter((c) => c.issue === Number(req.params.number)).map((c, i) => ({ id: i + 1, body: c.body })),
      }),
      "POST /repos/:owner/:repo/issues/:number/comments": (req: StubRequest) => {
        comments.push({ issue: Number(req.params.number), body: (req.body as { body: string }).body });
        return { status: 201, body: { id: comments.length } };
      },
    });
    issues = keepIssues(stub, { botLogin: BOT });
    app = await loadApp(stub, undefined, {}, await backend.fresh());
    repository = await upsertRepository(app.db, { fullName: "o/r", installationId: 1, defaultBranch: "main" });
    const todo = (n: number, title: string, path = `src/a${n}.ts`) => ({
      kind: "todo" as const,
      fingerprint: `f${n}`,
      title,
      path,
      line: n,
      signals: { marker: "FIXME" },
    });
    await syncFindings(app.db, repository.id, [todo(1, "handle EINTR"), todo(2, "add test"), todo(3, "add test"), todo(4, "other")], {
      kinds: ["todo"],
    });
    await syncDashboard({
      db: app.db,
      octokit: fastOctokit(stub.baseUrl) as unknown as Octokit,
      repository,
      config: DEFAULT_CONFIG,
      log: silentLog,
      botLogin: BOT,
    });
  });
  afterEach(async () => {
    await app.db.destroy();
    await stub.close();
  });

  it("starts a task on the ticked finding for a writer, recording the finding's content hash", async () => {
    roles.set("maintainer", "maintain");
    await tick("maintainer", ["start=1"]);
    expect(await tasks()).toMatchObject([{ finding_id: 1, state: "queued", trigger: "dashboard", requested_by: "maintainer" }]);
    expect(app.enqueued()).toBe(1);
    expect((await findings())[0]).toMatchObject({ last_task_outcome: "queued", last_task_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(comments).toEqual([]);
    const audit = await app.db
      .selectFrom("audit")
      .select(["actor", "action", "target", "outcome"])
      .where("action", "like", "dashboard.%")
      .execute();
    expect(audit).toEqual([{ actor: "maintainer", action: "dashboard.start", target: "finding:1", outcome: "ok" }]);
  });

  it("counts two maintainers' ticks of different rows made from the same copy", async () => {
    roles.set("alice", "write");
    roles.set("bob", "admin");
    const { before, after } = await tick("alice", ["start=1"]);
    await tick("bob", ["start=4"], after);
    expect(before).not.toBe(after);
    expect((await tasks()).map((t) => [t.finding_id, t.requested_by])).toEqual([
      [1, "alice"],
      [4, "bob"],
    ]);
  });

  it("reverts a reader's tick and answers them once, however often they tick", async () => {
    const { before } = await tick("reader", ["start=1"]);
    expect(issues[0]?.body).toBe(before);
    await tick("reader", ["start=4"]);
    expect(await tasks()).toEqual([]);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toMatch(/^@reader, only people with write, maintain or admin permission/);
    const audit = await app.db.selectFrom("audit").select(["actor", "action", "outcome"]).where("action", "like", "dashboard.%").execute();
    expect(audit).toEqual([
      { actor: "reader", action: "dashboard.tick", outcome: "refused" },
      { actor: "reader", action: "dashboard.tick", outcome: "refused" },
    ]);
  });

  it("dismisses a row's whole group for good", async () => {
    roles.set("maintainer", "write");
    const rows = await findings();
    const addTest = rows.find((f) => f.fingerprint === "f2");
    const group = (issues[0]?.body ?? "").includes("<!-- bb:dismiss=2 -->") ? "dismiss=2" : "dismiss=3";
    await tick("maintainer", [group]);
    const after = await findings();
    expect(after.filter((f) => f.dismissed_at !== null).map((f) => f.fingerprint)).toEqual(["f2", "f3"]);
    expect(after.find((f) => f.id === addTest?.id)?.dismissed_by).toBe("maintainer");
  });

  it("follows labels and closing of other issues at once", async () => {
    const bug: KeptIssue = {
      number: 9,
      title: "Crash",
      body: "",
      state: "open",
      labels: ["bug"],
      user: { login: "u", type: "User" },
      created_at: "",
    };
    await app.receive("issues", { action: "labeled", issue: issuePayload(bug), sender: { login: "u", type: "User" }, ...base });
    expect((await findings()).find((f) => f.issue_number === 9)).toMatchObject({ kind: "issue", resolved_at: null, title: "Crash (#9)" });
    await app.receive("issues", {
      action: "closed",
      issue: issuePayload({ ...bug, state: "closed" }),
      sender: { login: "u", type: "User" },
      ...base,
    });
    expect((await findings()).find((f) => f.issue_number === 9)?.resolved_at).not.toBeNull();
  });
});
