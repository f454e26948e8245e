import type { Octokit } from "@octokit/rest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../../../src/config/parse.js";
import type { RepoConfig } from "../../../src/config/schema.js";
import { DASHBOARD_MARKER } from "../../../src/dashboard/index.js";
import { handleDashboardJobs, syncDashboard } from "../../../src/scheduler/dashboard.js";
import { syncFindings } from "../../../src/store/findings.js";
import { getRepositoryById, upsertRepository } from "../../../src/store/repositories.js";
import type { Repository } from "../../../src/store/schema.js";
import { type KeptIssue, keepIssues } from "../../fixtures/github-issue-state.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { fastOctokit, silentLog, tempStore } from "../support/env.js";

const BOT = "backlog-bot[bot]";
const T0 = new Date("2026-12-03T10:00:00Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);

function config(yaml = ""): RepoConfig {
  const parsed = parseConfigText(yaml);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.config;
}

describe("dashboard sync", () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  let stub: GitHubStub;
  let issues: KeptIssue[];
  let repository: Repository;
  let octokit: Octokit;
  const writes = () => stub.requests.filter((r) => r.method !== "GET");
  const sync = (when: Date, cfg = config(), botLogin: string | undefined = BOT) =>
    syncDashboard({ db: store.db, octokit, repository, config: cfg, log: silentLog, now: when, ...(botLogin && { botLogin }) });
  const todo = (n: number, title: string) => ({
    kind: "todo" as const,
    fingerprint: `f${n}`,
    title,
    path: `src/a${n}.ts`,
    line: n,
    signals: { marker: "FIXME" },
  });

  beforeEach(async () => {
    store = await tempStore();
    stub = await startGitHubStub();
    issues = keepIssues(stub, { botLogin: BOT });
    octokit = fastOctokit(stub.baseUrl) as unknown as Octokit;
    repository = await upsertRepository(store.db, { fullName: "o/r", installationId: 1, defaultBranch: "main" });
    await syncFindings(store.db, repository.id, [todo(1, "handle EINTR"), todo(2, "add test"), todo(3, "add test")], { kinds: ["todo"] });
  });
  afterEach(async () => {
    await stub.close();
    await store.cleanup();
  });

  it("queues the sync a debounce defers on the repository's dashboard queue, so it never runs beside another sync", async () => {
    expect(await sync(new Date())).toEqual({ kind: "created", issueNumber: 1 });
    await syncFindings(store.db, repository.id, [todo(4, "a new row")], { kinds: ["todo"], paths: ["src/a4.ts"] });
    const added: Array<{ key?: string; queue?: string }> = [];
    let handler: ((payload: { repositoryId: number }, context: unknown) => Promise<void>) | undefined;
    handleDashboardJobs(
      {
        handle: (_kind: string, fn: unknown) => {
          handler = fn as typeof handler;
        },
        add: async (spec: { key?: string; queue?: string }) => {
          added.push({ key: spec.key, queue: spec.queue });
          return "1";
        },
      } as never,
      { db: store.db, access: { botIdentity: async () => ({ name: BOT }), octokit: async () => octokit } as never, log: silentLog },
    );
    await handler?.({ repositoryId: repository.id }, { log: silentLog });
    expect(added).toEqual([{ key: `dashboard:${repository.id}:later`, queue: `dashboard:${repository.id}` }]);
  });

  it("creates one issue with the marker and the ranked rows, records it, and skips an unchanged body", async () => {
    expect(await sync(T0)).toEqual({ kind: "created", issueNumber: 1 });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.title).toBe("Backlog dashboard");
    expect(issues[0]?.body.startsWith(DASHBOARD_MARKER)).toBe(true);
    expect(issues[0]?.body).toContain("handle EINTR");
    expect(issues[0]?.body).toContain("add test ×2");
    expect((await getRepositoryById(store.db, repository.id))?.dashboard_issue_number).toBe(1);
    const before = stub.requests.length;
    expect(await sync(at(3600))).toEqual({ kind: "unchanged", issueNumber: 1 });
    expect(stub.requests.length).toBe(before);
  });

  it("debounces edits to one per dashboardMinIntervalS and then writes the latest state", async () => {
    await sync(T0);
    await syncFindings(store.db, repository.id, [todo(4, "new work")], { kinds: ["todo"], paths: ["src/a4.ts"] });
    expect(await sync(at(30))).toEqual({ kind: "debounced", retryAt: at(60) });
    expect(writes()).toHaveLength(1);
    expect(await sync(at(61))).toEqual({ kind: "updated", issueNumber: 1 });
    expect(issues[0]?.body).toContain("new work");
    expect(writes().map((r) => r.method)).toEqual(["POST", "PATCH"]);
  });

  it("finds the issue by its marker after a crash between creating and recording it: never a second one", async () => {
    await sync(T0);
    // The crash: the issue exists on GitHub, the store never recorded it.
    await store.db
      .updateTable("repositories")
      .set({ dashboard_issue_number: null, dashboard_hash: null, dashboard_synced_at: null })
      .execute();
    issues.unshift({
      number: 0,
      title: "unrelated",
      body: "hello",
      state: "open",
      labels: [],
      user: { login: BOT, type: "Bot" },
      created_at: "",
    });
    expect(await sync(at(120))).toEqual({ kind: "updated", issueNumber: 1 });
    expect(issues.filter((i) => i.body.includes(DASHBOARD_MARKER))).toHaveLength(1);
    // And without knowing the bot's login, by reading every issue.
    await store.db
      .updateTable("repositories")
      .set({ dashboard_issue_number: null, dashboard_hash: null, dashboard_synced_at: null })
      .execute();
    await syncFindings(store.db, repository.id, [todo(5, "changed")], { kinds: ["todo"], paths: ["src/a5.ts"] });
    expect(await sync(at(240), config(), undefined)).toEqual({ kind: "updated", issueNumber: 1 });
    expect(stub.requests.filter((r) => r.method === "POST")).toHaveLength(1);
  });

  it("leaves a dashboard a maintainer closed alone until they switch it off and on again", async () => {
    await sync(T0);
    issues[0] = { ...(issues[0] as KeptIssue), state: "closed" };
    await store.db.updateTable("repositories").set({ dashboard_issue_number: null }).execute();
    expect(await sync(at(120))).toEqual({ kind: "closed", issueNumber: 1 });
    await syncFindings(store.db, repository.id, [todo(6, "more")], { kinds: ["todo"], paths: ["src/a6.ts"] });
    expect(await sync(at(240))).toEqual({ kind: "closed", issueNumber: 1 });
    expect(await sync(at(300), config("dashboard: false"))).toEqual({ kind: "off" });
    expect(await sync(at(400))).toEqual({ kind: "reopened", issueNumber: 1 });
    expect(issues[0]?.state).toBe("open");
    expect(issues.filter((i) => i.body.includes(DASHBOARD_MARKER))).toHaveLength(1);
  });

  it("uses dashboardTitle and dashboardLabels, and re-creates a deleted issue", async () => {
    const cfg = config("dashboardTitle: Work\ndashboardLabels: [backlog]\ndashboardLimit: 1");
    await sync(T0, cfg);
    expect(issues[0]).toMatchObject({ title: "Work", labels: ["backlog"] });
    expect(issues[0]?.body.match(/<!-- bb:start=/g)).toHaveLength(1);
    issues.length = 0; // deleted on GitHub
    await syncFindings(store.db, repository.id, [todo(7, "again")], { kinds: ["todo"], paths: ["src/a7.ts"] });
    expect(await sync(at(120), cfg)).toEqual({ kind: "created", issueNumber: 1 });
  });

  it("shows a config error in the body and says it once in a comment", async () => {
    const comments: string[] = [];
    stub.route("GET /repos/:owner/:repo/issues/:number/comments", () => ({
      body: comments.map((body, i) => ({ id: i + 1, body, user: { login: "backlog-bot[bot]", type: "Bot" } })),
    }));
    stub.route("POST /repos/:owner/:repo/issues/:number/comments", (req) => {
      comments.push((req.body as { body: string }).body);
      return { status: 201, body: { id: comments.length } };
    });
    await store.db.updateTable("repositories").set({ config_error: "schedule: must be a five-field cron expression" }).execute();
    await sync(T0);
    expect(issues[0]?.body).toContain(
      "is invalid, so the last valid config stays in force: schedule: must be a five-field cron expression",
    );
    await syncFindings(store.db, repository.id, [todo(8, "later change")], { kinds: ["todo"], paths: ["src/a8.ts"] });
    expect((await sync(at(120))).kind).toBe("updated");
    expect(comments).toHaveLength(1);
    expect(comments[0]).toContain("schedule: must be a five-field cron expression");
  });

  it("costs no API request in an hour where nothing changes, with 1,000 open issues in the repository", async () => {
    for (let n = 1; n <= 1000; n++) {
      issues.push({
        number: n,
        title: `i${n}`,
        body: "",
        state: "open",
        labels: [],
        user: { login: "someone", type: "User" },
        created_at: "",
      });
    }
    expect((await sync(T0)).kind).toBe("created");
    const before = stub.requests.length;
    for (let minute = 1; minute <= 60; minute++) expect((await sync(at(minute * 60))).kind).toBe("unchanged");
    expect(stub.requests.length - before).toBe(0);
  });
});
