import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KeptIssue, keepIssues } from "../fixtures/github-issue-state.js";
import type { GitHubStub } from "../fixtures/github-stub.js";
import { calls, deliver, git, handled, makeRemote, query, type ServerProcess, startServer, startStub, waitFor } from "./harness.js";

const BOT = "backlog-bot[bot]";
const REPO = { full_name: "octo-org/widgets", name: "widgets", owner: { login: "octo-org" }, default_branch: "main" };

/**
 * Issue 9 on the real server (`node dist/main.js`): installing the app scans at once and opens the
 * dashboard issue; a writer's tick on a TODO row starts the real executor, which pushes a branch and
 * opens a draft PR that the dashboard then shows; a reader's tick is undone and answered; a lost
 * record of the dashboard issue (a crash between creating and recording it) makes no second issue.
 */
describe("dashboard issue, end to end", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-e2e-dashboard-"));
  const dataDir = path.join(dir, "data");
  let remote: string;
  let stub: GitHubStub;
  let server: ServerProcess;
  let issues: KeptIssue[];
  const comments: { issue: number; body: string }[] = [];
  const dashboard = () => issues.find((i) => i.body.startsWith("<!-- backlog-bot:dashboard -->"));
  const edit = async (login: string, tick: string) => {
    const issue = dashboard() as KeptIssue;
    const from = issue.body;
    issue.body = from.replace(`- [ ] <!-- bb:${tick} -->`, `- [x] <!-- bb:${tick} -->`);
    expect(issue.body).not.toBe(from);
    const { id } = await deliver(server, "issues", {
      action: "edited",
      issue: {
        ...issue,
        html_url: `https://github.com/${REPO.full_name}/issues/${issue.number}`,
        labels: [],
        updated_at: new Date().toISOString(),
      },
      changes: { body: { from } },
      sender: { login, type: "User" },
      repository: REPO,
      installation: { id: 1 },
    });
    expect((await handled(dataDir, id)).status).toBe("processed");
  };

  beforeAll(async () => {
    remote = makeRemote(dir, {
      "src/app.js": "// TODO: greet with punctuation\nexport const greet = () => 'Hello world';\n",
      "deps/lib/configure": "# FIXME: generated, never ranked\n",
    });
    const agent = path.join(dir, "agent.mjs");
    writeFileSync(
      agent,
      `import { readFileSync, writeFileSync } from "node:fs";
readFileSync(0, "utf8");
writeFileSync("src/app.js", readFileSync("src/app.js", "utf8").replace("// TODO: greet with punctuation\\n", "").replace("Hello world", "Hello, world!"));
console.log("Changed src/app.js");
`,
    );
    stub = await startStub({ maintainer: "write", reader: "read" });
    issues = keepIssues(stub, { botLogin: BOT });
    stub.route("GET /repos/:owner/:repo", () => ({ body: { clone_url: `file://${remote}`, default_branch: "main" } }));
    stub.route("GET /repos/:owner/:repo/contents/:path", () => ({
      body: "dashboardMinIntervalS: 10\n",
      headers: { "content-type": "text/plain" },
    }));
    stub.route("GET /repos/:owner/:repo/commits/:ref/check-runs", () => ({ body: { total_count: 0, check_runs: [] } }));
    stub.route("GET /repos/:owner/:repo/issues/:number/comments", (req) => ({
      body: comments
        .filter((c) => c.issue === Number(req.params.number))
        .map((c, i) => ({ id: i + 1, body: c.body, user: { login: BOT, type: "Bot" } })),
    }));
    stub.route("POST /repos/:owner/:repo/issues/:number/comments", (req) => {
      comments.push({ issue: Number(req.params.number), body: (req.body as { body: string }).body });
      return { status: 201, body: { id: comments.length } };
    });
    server = await startServer(stub, dataDir, { BACKLOG_BOT_AGENT_COMMAND: `${process.execPath} ${agent}`, BACKLOG_BOT_SANDBOX: "off" });
  });

  afterAll(async () => {
    await server?.stop();
    if (process.env.E2E_LOG) writeFileSync(process.env.E2E_LOG, server?.output() ?? "");
    await stub?.close();
  });

  it("installation.created -> first scan -> one dashboard issue with the ranked rows", async () => {
    const { id } = await deliver(server, "installation", {
      action: "created",
      installation: { id: 1, account: { login: "octo-org" } },
      repositories: [{ full_name: REPO.full_name, name: REPO.name }],
      sender: { login: "admin", type: "User" },
    });
    expect((await handled(dataDir, id)).status).toBe("processed");
    const issue = await waitFor(dashboard, 90_000, "the dashboard issue");
    expect(issue.title).toBe("Backlog dashboard");
    expect(issue.body).toContain("greet with punctuation");
    expect(issue.body).not.toContain("generated, never ranked");
    expect(issues).toHaveLength(1);
  });

  it("a reader's tick is undone and answered once", async () => {
    const finding = query<{ id: number }>(dataDir, "select id from findings where path = 'src/app.js'")[0];
    await edit("reader", `start=${finding?.id}`);
    expect(dashboard()?.body).toContain(`- [ ] <!-- bb:start=${finding?.id} -->`);
    expect(comments.filter((c) => c.body.startsWith("@reader"))).toHaveLength(1);
    expect(query(dataDir, "select id from tasks")).toEqual([]);
  });

  it("a writer's tick on a TODO row -> task -> draft PR on the bare remote -> the dashboard shows the PR", async () => {
    const finding = query<{ id: number }>(dataDir, "select id from findings where path = 'src/app.js'")[0];
    await edit("maintainer", `start=${finding?.id}`);
    const task = await waitFor(
      () =>
        query<{ state: string; branch: string; pr_number: number; finding_id: number }>(
          dataDir,
          "select * from tasks where state = 'pr_open'",
        )[0],
      120_000,
      "the task to open its PR",
    );
    expect(task.finding_id).toBe(finding?.id);
    expect(git(remote, "show", `${task.branch}:src/app.js`)).toContain("Hello, world!");
    const [pr] = calls(stub, "POST", /\/pulls$/);
    expect(pr?.body).toMatchObject({ draft: true });
    // The PR body links the finding it came from.
    expect((pr?.body as { body?: string } | undefined)?.body).toContain("src/app.js");
    await waitFor(() => (dashboard()?.body.includes(`[#${task.pr_number}]`) ? true : undefined), 60_000, "the dashboard to show the PR");
    expect(dashboard()?.body).toMatch(/## Pull requests\n\n- \[#\d+\]/);
  });

  it("a lost record of the dashboard issue makes no second issue", async () => {
    const db = new Database(path.join(dataDir, "backlog-bot.sqlite"));
    db.prepare("update repositories set dashboard_issue_number = null, dashboard_hash = null, dashboard_synced_at = null").run();
    db.close();
    await edit("maintainer", "rescan");
    await waitFor(
      () => query<{ n: number | null }>(dataDir, "select dashboard_issue_number as n from repositories")[0]?.n ?? undefined,
      90_000,
      "the dashboard to be found again",
    );
    expect(issues.filter((i) => i.body.startsWith("<!-- backlog-bot:dashboard -->"))).toHaveLength(1);
  });
});
