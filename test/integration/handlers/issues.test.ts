import type { Octokit } from "@octokit/rest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../../src/config/schema.js";
import { DASHBOARD_MARKER } from "../../../src/dashboard/index.js";
import { syncDashboard } from "../../../src/scheduler/dashboard.js";
import { recordDashboard } from "../../../src/store/dashboard.js";
import { syncFindings } from "../../../src/store/findings.js";
import { getRepositoryById, upsertRepository } from "../../../src/store/repositories.js";
import type { Repository } from "../../../src/store/schema.js";
import { claimTask, createTask, findOpenTask, getTask } from "../../../src/store/tasks.js";
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
        body: comments
          .filter((c) => c.issue === Number(req.params.number))
          .map((c, i) => ({ id: i + 1, body: c.body, user: { login: BOT, type: "Bot" } })),
      }),
      "POST /repos/:owner/:repo/issues/:number/comments": (req: StubRequest) => {
        comments.push({ issue: Number(req.params.number), body: (req.body as { body: string }).body });
        return { status: 201, body: { id: comments.length } };
      },
      // The app itself (asked with its JWT): its bot account is `backlog-bot[bot]`.
      "GET /app": () => ({ body: { id: 1, slug: "backlog-bot", name: "backlog-bot" } }),
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

  it("cancels the queued task of an issue that is closed (fixed elsewhere), and leaves a task with an open PR alone", async () => {
    const issue = (number: number): KeptIssue => ({
      number,
      title: `Issue ${number}`,
      body: "",
      state: "closed",
      labels: [],
      user: { login: "u", type: "User" },
      created_at: "",
    });
    const queued = (
      await createTask(app.db, { repositoryId: repository.id, issueNumber: 11, title: "t", requestedBy: "m", trigger: "comment" })
    ).task;
    const withPr = (
      await createTask(app.db, { repositoryId: repository.id, issueNumber: 12, title: "t", requestedBy: "m", trigger: "comment" })
    ).task;
    await app.db.updateTable("tasks").set({ state: "pr_open", pr_number: 5 }).where("id", "=", withPr.id).execute();
    for (const number of [11, 12])
      await app.receive("issues", {
        action: "closed",
        issue: issuePayload(issue(number)),
        sender: { login: "closer", type: "User" },
        ...base,
      });
    expect(await getTask(app.db, queued.id)).toMatchObject({ state: "cancelled", cancel_requested_by: "closer" });
    expect(await getTask(app.db, withPr.id)).toMatchObject({ state: "pr_open" });
  });
  it("closing an issue leaves a follow-up round of its task's open PR running (the PR and its follow-ups are its reviewers'); a first run without a PR is stopped", async () => {
    const closed = (number: number) =>
      app.receive("issues", {
        action: "closed",
        issue: issuePayload({
          number,
          title: `Issue ${number}`,
          body: "",
          state: "closed",
          labels: [],
          user: { login: "u", type: "User" },
          created_at: "",
        }),
        sender: { login: "closer", type: "User" },
        ...base,
      });
    const round = (
      await createTask(app.db, { repositoryId: repository.id, issueNumber: 13, title: "t", requestedBy: "m", trigger: "comment" })
    ).task;
    await app.db.updateTable("tasks").set({ state: "pr_open", pr_number: 6, branch: "b-13" }).where("id", "=", round.id).execute();
    // A review started a follow-up round on the PR: the task is running again, its PR open.
    expect(await claimTask(app.db, round.id, "worker-1", 60_000, { followUp: true })).toMatchObject({ state: "running" });
    const firstRun = (
      await createTask(app.db, { repositoryId: repository.id, issueNumber: 14, title: "t", requestedBy: "m", trigger: "comment" })
    ).task;
    await claimTask(app.db, firstRun.id, "worker-1", 60_000);
    await closed(13);
    await closed(14);
    expect(await getTask(app.db, round.id)).toMatchObject({ state: "running", pr_number: 6, cancel_requested_by: null });
    expect(await getTask(app.db, firstRun.id)).toMatchObject({ state: "running", cancel_requested_by: "closer" });
  });
  /** A sync as the dashboard job runs it, without the debounce. */
  const sync = () =>
    syncDashboard({
      db: app.db,
      octokit: fastOctokit(stub.baseUrl) as unknown as Octokit,
      repository,
      config: { ...DEFAULT_CONFIG, dashboardMinIntervalS: 0 },
      log: silentLog,
      botLogin: BOT,
    });
  const newFinding = () =>
    syncFindings(
      app.db,
      repository.id,
      [{ kind: "todo", fingerprint: "f9", title: "new", path: "x.ts", line: 1, signals: { marker: "FIXME" } }],
      {
        kinds: [],
      },
    );
  const markerIssue = (number: number, body: string, user: KeptIssue["user"], state: KeptIssue["state"] = "open"): KeptIssue => ({
    number,
    title: "Please read",
    body: `${DASHBOARD_MARKER}\n${body}`,
    state,
    labels: [],
    user,
    created_at: "",
  });

  it("treats anyone else's issue that starts with the dashboard marker as an ordinary issue: closing it turns nothing off", async () => {
    const before = await getRepositoryById(app.db, repository.id);
    for (const [number, user] of [
      [50, { login: "mallory", type: "User" }],
      [51, { login: "evil-app[bot]", type: "Bot" }],
    ] as const) {
      await app.receive("issues", {
        action: "closed",
        issue: issuePayload(markerIssue(number, "lol", user, "closed")),
        sender: { login: "mallory", type: "User" },
        ...base,
      });
    }
    const after = await getRepositoryById(app.db, repository.id);
    expect([after?.dashboard_issue_number, after?.dashboard_hash]).toEqual([1, before?.dashboard_hash]);
    await newFinding();
    expect(await sync()).toEqual({ kind: "updated", issueNumber: 1 });
    expect(issues[0]?.body).toContain("x.ts");
  });

  it("does nothing for a writer's tick in a box of someone else's issue that copies the dashboard", async () => {
    roles.set("maint", "write");
    const from = `Please confirm:\n- [ ] <!-- bb:dismiss=2 --> I have read the contributing guide\n- [ ] <!-- bb:start=1 --> I searched first`;
    for (const [number, user] of [
      [51, { login: "mallory", type: "User" }],
      [52, { login: "evil-app[bot]", type: "Bot" }],
    ] as const) {
      const fake = markerIssue(number, from.replaceAll("- [ ]", "- [x]"), user);
      await app.receive("issues", {
        action: "edited",
        issue: issuePayload(fake),
        changes: { body: { from: `${DASHBOARD_MARKER}\n${from}` } },
        sender: { login: "maint", type: "User" },
        ...base,
      });
    }
    expect((await findings()).filter((f) => f.dismissed_at !== null)).toEqual([]);
    expect(await tasks()).toEqual([]);
    expect(comments).toEqual([]);
    expect(stub.requests.filter((r) => r.method === "PATCH")).toEqual([]);
  });

  it("takes the app's own marker issue for the dashboard while no number is recorded", async () => {
    roles.set("maint", "write");
    await recordDashboard(app.db, repository.id, { issueNumber: null, hash: null });
    const dashboard = issues[0] as KeptIssue;
    expect(dashboard.user).toEqual({ login: BOT, type: "Bot" });
    const group = dashboard.body.includes("<!-- bb:dismiss=2 -->") ? "dismiss=2" : "dismiss=3";
    await tick("maint", [group]);
    expect((await findings()).filter((f) => f.dismissed_at !== null).map((f) => f.fingerprint)).toEqual(["f2", "f3"]);
  });

  it("reopens the dashboard a triager closed and says so once; a writer's close turns it off", async () => {
    roles.set("triager", "triage");
    roles.set("maint", "write");
    const dashboard = issues[0] as KeptIssue;
    const close = async (login: string) => {
      dashboard.state = "closed";
      await app.receive("issues", { action: "closed", issue: issuePayload(dashboard), sender: { login, type: "User" }, ...base });
    };
    await close("triager");
    expect(dashboard.state).toBe("open");
    await close("triager");
    expect(dashboard.state).toBe("open");
    expect(comments.map((c) => [c.issue, c.body.split("\n")[0]])).toEqual([
      [
        1,
        "@triager, only people with write, maintain or admin permission on o/r can turn this dashboard off by closing it (@triager has triage permission), so it was reopened.",
      ],
    ]);
    await newFinding();
    expect(await sync()).toEqual({ kind: "updated", issueNumber: 1 });

    await close("maint");
    expect(dashboard.state).toBe("closed");
    expect(await sync()).toEqual({ kind: "closed", issueNumber: 1 });
    const audit = await app.db.selectFrom("audit").select(["actor", "outcome"]).where("action", "=", "dashboard.close").execute();
    expect(audit).toEqual([
      { actor: "triager", outcome: "refused" },
      { actor: "triager", outcome: "refused" },
      { actor: "maint", outcome: "ok" },
    ]);
  });

  it("retries a failed task of an issue's row as that issue's task: its end is said on the issue, and it holds the issue", async () => {
    roles.set("maintainer", "maintain");
    await syncFindings(
      app.db,
      repository.id,
      [
        {
          kind: "issue",
          fingerprint: "issue:7",
          title: "Login fails (#7)",
          url: "https://github.com/o/r/issues/7",
          issueNumber: 7,
          signals: {},
        },
      ],
      { kinds: [] },
    );
    const finding = await app.db.selectFrom("findings").select("id").where("fingerprint", "=", "issue:7").executeTakeFirstOrThrow();
    await sync();
    await tick("maintainer", [`start=${finding.id}`]);
    const [first] = await tasks();
    expect(first).toMatchObject({ finding_id: finding.id, issue_number: 7, state: "queued" });
    // Its worker ends it failed; the dashboard offers the retry box.
    await app.db
      .updateTable("tasks")
      .set({ state: "failed", error: "the agent crashed" })
      .where("id", "=", first?.id ?? 0)
      .execute();
    await sync();
    await tick("maintainer", [`retry=${first?.id}`]);
    const retried = (await tasks()).at(-1);
    expect(retried).toMatchObject({ finding_id: finding.id, issue_number: 7, state: "queued", trigger: "dashboard" });
    // One open task per issue: a `/agent fix` on #7 now answers with this task rather than start a second.
    expect((await findOpenTask(app.db, repository.id, { issueNumber: 7 }))?.id).toBe(retried?.id);
  });
});
