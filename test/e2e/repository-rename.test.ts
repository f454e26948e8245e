import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mirrorPath } from "../../src/git/workspace.js";
import { type KeptIssue, keepIssues } from "../fixtures/github-issue-state.js";
import type { GitHubStub } from "../fixtures/github-stub.js";
import {
  deliver,
  git,
  handled,
  makeRemote,
  type Payload,
  payload,
  query,
  type ServerProcess,
  startServer,
  startStub,
  waitFor,
} from "./harness.js";

const BOT = "backlog-bot[bot]";
/** GitHub's id of the repository in the recorded payloads: it stays when the name changes. */
const GITHUB_ID = 123456789;
const MARKER = "<!-- backlog-bot:dashboard -->";

interface RepositoryRow {
  id: number;
  full_name: string;
  dashboard_issue_number: number | null;
}
interface TaskRow {
  id: number;
  repository_id: number;
  state: string;
  pr_number: number | null;
}

/**
 * A repository renamed or transferred on GitHub, on the real server (`node dist/main.js`) with
 * signed webhooks: its one row takes the new name (by GitHub's repository id), so the task whose PR
 * is open stays linked and later PR events under the new name find it, the dashboard issue is not
 * created again, and no mirror is left under the old name.
 */
describe("repository renamed or transferred, end to end", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-e2e-rename-"));
  const dataDir = path.join(dir, "data");
  let remote: string;
  let stub: GitHubStub;
  let server: ServerProcess;
  let issues: KeptIssue[];
  const repositories = () => query<RepositoryRow>(dataDir, "select id, full_name, dashboard_issue_number from repositories order by id");
  const tasks = () => query<TaskRow>(dataDir, "select id, repository_id, state, pr_number from tasks order by id");
  const dashboards = () => issues.filter((i) => i.body.startsWith(MARKER));
  /** The recorded payload's repository as GitHub names it now: same id, `fullName`. */
  const named = (fullName: string) => (p: Payload) => {
    const [owner = "", name = ""] = fullName.split("/");
    Object.assign(p.repository, { id: GITHUB_ID, name, full_name: fullName, clone_url: `file://${remote}` });
    p.repository.owner.login = owner;
  };
  const send = async (event: string, body: Payload) => {
    const { status, id } = await deliver(server, event, body);
    expect(status).toBe(202);
    expect(await handled(dataDir, id, 90_000)).toMatchObject({ status: "processed", error: null });
  };
  const prEvent = (fullName: string, action: "closed" | "reopened", merged = false) =>
    payload("pull_request.closed", (p) => {
      named(fullName)(p);
      p.action = action;
      Object.assign(p.pull_request, { number: 7, merged, state: action === "closed" ? "closed" : "open" });
    });

  beforeAll(async () => {
    remote = makeRemote(dir, { "greet.js": "// TODO: greet with punctuation\nexport const greet = () => 'Hello world';\n" });
    const agent = path.join(dir, "agent.mjs");
    writeFileSync(
      agent,
      `import { readFileSync, writeFileSync } from "node:fs";
readFileSync(0, "utf8");
writeFileSync("greet.js", readFileSync("greet.js", "utf8").replace("Hello world", "Hello, world!"));
console.log("Changed greet.js");
`,
    );
    stub = await startStub({ maintainer: "maintain" });
    const issue42: KeptIssue = {
      number: 42,
      title: "Greeting is missing punctuation",
      body: "`greet()` prints `Hello world` but it should print `Hello, world!`.",
      state: "open",
      labels: [],
      user: { login: "reporter", type: "User" },
      created_at: new Date(Date.now() - 86_400_000).toISOString(),
    };
    issues = keepIssues(stub, { botLogin: BOT, issues: [issue42] });
    stub.route("GET /repos/:owner/:repo", (req) => ({
      body: { id: GITHUB_ID, full_name: `${req.params.owner}/${req.params.repo}`, clone_url: `file://${remote}`, default_branch: "main" },
    }));
    stub.route("GET /repos/:owner/:repo/contents/:path", () => ({
      body: "dashboardMinIntervalS: 0\n",
      headers: { "content-type": "text/plain" },
    }));
    stub.route("GET /repos/:owner/:repo/commits/:ref/check-runs", () => ({ body: { total_count: 0, check_runs: [] } }));
    server = await startServer(stub, dataDir, { BACKLOG_BOT_AGENT_COMMAND: `${process.execPath} ${agent}`, BACKLOG_BOT_SANDBOX: "off" });

    // Installed (the first scan clones the mirror and opens the dashboard issue), then a maintainer's /agent fix -> an open PR.
    await send("installation", {
      action: "created",
      installation: { id: 77, account: { login: "octo-org" } },
      repositories: [{ id: GITHUB_ID, full_name: "octo-org/widgets", name: "widgets" }],
      sender: { login: "admin", type: "User" },
    });
    await waitFor(() => dashboards()[0], 90_000, "the dashboard issue");
    await waitFor(() => repositories()[0]?.dashboard_issue_number ?? undefined, 30_000, "the dashboard issue's record");
    await send("issue_comment", payload("issue_comment.created", named("octo-org/widgets")));
    await waitFor(() => tasks().find((t) => t.state === "pr_open"), 90_000, "the task's PR");
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    if (process.env.E2E_LOG) writeFileSync(process.env.E2E_LOG, server?.output() ?? "");
    await stub?.close();
  });

  it("repository.renamed: one row with the new name, the task still linked, PR events under the new name find it", async () => {
    const [before] = repositories();
    expect(before).toMatchObject({ full_name: "octo-org/widgets" });
    const [task] = tasks();
    expect(task).toMatchObject({ repository_id: before?.id, state: "pr_open", pr_number: 7 });
    expect(existsSync(mirrorPath(dataDir, "octo-org/widgets"))).toBe(true);

    await send(
      "repository",
      payload("pull_request.closed", (p) => {
        named("octo-org/gadgets")(p);
        delete p.pull_request;
        delete p.number;
        p.action = "renamed";
        p.changes = { repository: { name: { from: "widgets" } } };
      }),
    );
    expect(repositories()).toEqual([{ ...before, full_name: "octo-org/gadgets" }]);
    expect(tasks()[0]?.repository_id).toBe(before?.id);
    expect(existsSync(mirrorPath(dataDir, "octo-org/widgets"))).toBe(false);

    await send("pull_request", prEvent("octo-org/gadgets", "closed"));
    expect(tasks()[0]?.state).toBe("closed");
    await send("pull_request", prEvent("octo-org/gadgets", "reopened"));
    expect(tasks()[0]?.state).toBe("pr_open");
  });

  it("a later delivery carrying a new name and the same id, with no renamed event: the same row, no second dashboard issue", async () => {
    const [before] = repositories();
    const dashboardNumber = before?.dashboard_issue_number;
    const head = git(remote, "rev-parse", "main").trim();
    // Transferred to another owner; the first word of it is a push to the default branch (a full rescan).
    await send(
      "push",
      payload("push", (p) => {
        named("new-org/gadgets")(p);
        Object.assign(p, { ref: "refs/heads/main", before: head, after: head, forced: true, commits: [], head_commit: null });
      }),
    );
    expect(repositories()).toEqual([{ ...before, full_name: "new-org/gadgets" }]);
    expect(tasks()).toEqual([expect.objectContaining({ repository_id: before?.id, state: "pr_open" })]);
    expect(existsSync(mirrorPath(dataDir, "new-org/gadgets"))).toBe(true); // the rescan cloned afresh under the new name

    await send("pull_request", prEvent("new-org/gadgets", "closed", true));
    expect(tasks()[0]?.state).toBe("merged");
    expect(dashboards()).toHaveLength(1);
    expect(repositories()[0]?.dashboard_issue_number).toBe(dashboardNumber);
  });
});
