import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GitHubStub } from "../fixtures/github-stub.js";
import { type ScriptedServer, startAnthropicServer } from "../fixtures/model-servers/anthropic.js";
import { deliver, git, handled, makeRemote, payload, query, ROOT, type ServerProcess, startServer, startStub } from "./harness.js";

/** Screenshots of the real server's pages (gitignored test artifacts). */
const ARTIFACTS = path.resolve(import.meta.dirname, "../../test-artifacts/web-server");
const API_TOKEN = "e2e-operator-token-0123456789";
/** What the stub's people may do on octo-org/widgets (the installation's only repository). */
const ROLES: Record<string, string> = { maintainer: "write", reader: "read", stranger: "none" };

/**
 * The dashboard on the real server (`node dist/main.js`, as `npm start`): sign in through the stub's
 * OAuth flow, start a TODO finding's task with the button, and watch the page reach `pr_open`
 * through SSE while the real executor runs the real Claude Code CLI (scripted model), pushes and opens the draft PR.
 */
describe("web dashboard on the real server", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-e2e-web-"));
  const dataDir = path.join(dir, "data");
  let remote: string;
  let stub: GitHubStub;
  let server: ServerProcess;
  let browser: Browser;
  let anthropic: ScriptedServer;
  let findingId = 0;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    remote = makeRemote(dir, { "src/app.js": "// TODO: greet with punctuation\nexport const greet = () => 'Hello world';\n" });
    // The real Claude Code CLI against a scripted model: it reads the file, edits it, and says so.
    const file = (request: { body: string }) => path.join(/Working directory: ([^\s"\\]+)/.exec(request.body)?.[1] ?? "", "src/app.js");
    anthropic = await startAnthropicServer((request, turn) => {
      if (turn === 0) return { text: "Reading src/app.js.", toolUses: [{ name: "Read", input: { file_path: file(request) } }] };
      if (turn === 1)
        return {
          toolUses: [{ name: "Edit", input: { file_path: file(request), old_string: "Hello world", new_string: "Hello, world!" } }],
        };
      return { text: "Fixed the greeting in src/app.js." };
    });
    stub = await startStub(ROLES);
    const loginOf = (auth: string | string[] | undefined) => /token-(\w+)$/.exec(String(auth ?? ""))?.[1];
    stub.route("GET /login/oauth/authorize", (req) => {
      const back = new URL(req.query.get("redirect_uri") ?? "");
      back.searchParams.set("code", `code-${req.query.get("login") ?? nextLogin}`);
      back.searchParams.set("state", req.query.get("state") ?? "");
      return { status: 302, headers: { location: back.toString() } };
    });
    stub.route("POST /login/oauth/access_token", (req) => ({
      body: {
        access_token: `token-${String((req.body as { code?: string }).code).replace(/^code-/, "")}`,
        token_type: "bearer",
        scope: "",
      },
    }));
    stub.route("GET /user", (req) => ({ body: { login: loginOf(req.headers.authorization), id: 9, type: "User" } }));
    stub.route("GET /user/installations/:id/repositories", (req) => {
      const can = ROLES[loginOf(req.headers.authorization) ?? ""] ?? "none";
      const repositories = can === "none" ? [] : [{ full_name: "octo-org/widgets" }];
      return { body: { total_count: repositories.length, repositories } };
    });
    server = await startServer(stub, dataDir, {
      BACKLOG_BOT_AGENTS: "claude-code",
      BACKLOG_BOT_CLAUDE_PATH: path.join(ROOT, "node_modules/.bin/claude"),
      BACKLOG_BOT_CLAUDE_ENV: "ANTHROPIC_API_KEY,ANTHROPIC_BASE_URL",
      ANTHROPIC_API_KEY: "sk-ant-e2e-not-a-real-key",
      ANTHROPIC_BASE_URL: anthropic.url,
      BACKLOG_BOT_SANDBOX: "off",
      GITHUB_CLIENT_ID: "Iv1.e2e",
      GITHUB_CLIENT_SECRET: "e2e-client-secret",
      BACKLOG_BOT_SESSION_SECRET: "e2e-session-secret",
      BACKLOG_BOT_API_TOKEN: API_TOKEN,
    });
    // The repository and its TODO as a scan would have stored them (a second connection, like an operator's shell).
    const db = new Database(path.join(dataDir, "backlog-bot.sqlite"));
    const at = new Date().toISOString();
    const repo = db
      .prepare(
        "insert into repositories (full_name, installation_id, default_branch, clone_url, created_at, updated_at) values (?, ?, 'main', ?, ?, ?)",
      )
      .run("octo-org/widgets", 1, `file://${remote}`, at, at);
    findingId = Number(
      db
        .prepare(
          "insert into findings (repository_id, fingerprint, kind, title, path, line, signals, first_seen_at, last_seen_at) values (?, 'fp-1', 'todo', 'TODO: greet with punctuation', 'src/app.js', 1, ?, ?, ?)",
        )
        .run(repo.lastInsertRowid, JSON.stringify({ marker: "TODO" }), at, at).lastInsertRowid,
    );
    db.close();
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (process.env.E2E_LOG) writeFileSync(process.env.E2E_LOG, server?.output() ?? "");
    await stub?.close();
    await anthropic?.close();
  });

  let nextLogin = "maintainer";
  async function signedIn(login: string): Promise<Page> {
    nextLogin = login;
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.url}/`);
    await page.getByRole("button", { name: "Sign in with GitHub" }).click();
    await page.waitForURL(`${server.url}/`);
    return page;
  }
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  it("starts a task with the button and follows it live to pr_open, then shows the transcript", async () => {
    const page = await signedIn("maintainer");
    expect(await page.locator("#repositories a").allTextContents()).toEqual(["octo-org/widgets"]);
    await shot(page, "overview");
    await page.getByRole("link", { name: "octo-org/widgets" }).click();
    await shot(page, "backlog");
    await page.locator(`tr[data-finding="${findingId}"]`).getByRole("button", { name: "Start" }).click();
    await page.waitForURL(/\/tasks\/\d+$/);
    await page.evaluate(() => {
      (globalThis as unknown as { marker: number }).marker = 7;
    });
    await expect.poll(() => page.locator("#task [data-state]").first().textContent(), { timeout: 90_000, interval: 250 }).toBe("pr_open");
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(7); // no reload
    expect(await page.locator("#pr a").getAttribute("href")).toMatch(/\/pull\/\d+$/);
    await shot(page, "task-live");
    const [task] = query<{ id: number; state: string; branch: string; requested_by: string }>(dataDir, "select * from tasks");
    expect(task).toMatchObject({ state: "pr_open", requested_by: "maintainer" });
    expect(git(remote, "show", `${task?.branch}:src/app.js`)).toContain("Hello, world!");
    await page.reload();
    const transcript = page.locator(".transcript[data-run]").last();
    expect(await transcript.locator(".msg.assistant").first().textContent()).toContain("Reading src/app.js.");
    const read = transcript.locator("details.tool").first();
    expect(await read.locator("summary").textContent()).toBe("🔧 Read");
    expect(await read.getAttribute("open")).toBeNull();
    expect(await transcript.locator("details.tool summary", { hasText: "Edit" }).count()).toBe(1);
    await shot(page, "task-transcript");
    await page.context().close();
  });

  it("shows a reader no buttons and refuses a forged POST; a stranger sees no repository", async () => {
    const page = await signedIn("reader");
    await page.goto(`${server.url}/repos/octo-org/widgets`);
    expect(await page.locator("#backlog button").count()).toBe(0);
    const csrf = await page.locator('meta[name="csrf-token"]').getAttribute("content");
    const status = await page.evaluate(
      async ({ id, token }) =>
        (
          await fetch(`/api/v1/findings/${id}/dismiss`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-csrf-token": token ?? "" },
            body: "{}",
          })
        ).status,
      { id: findingId, token: csrf },
    );
    expect(status).toBe(403);
    await page.context().close();
    const stranger = await signedIn("stranger");
    expect(await stranger.locator("#repositories a").count()).toBe(0);
    expect((await stranger.goto(`${server.url}/repos/octo-org/widgets`))?.status()).toBe(404);
    await stranger.context().close();
  });

  it("counts what happened on /metrics: the delivery, the task, its run; /ready names every check", async () => {
    const { id } = await deliver(
      server,
      "pull_request",
      payload("pull_request.closed", (p) => {
        p.pull_request.number = 999; // not the bot's: handled, changes nothing
        p.number = 999;
      }),
    );
    expect((await handled(dataDir, id)).status).toBe("processed");
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    const families = new Map(parsePrometheusTextFormat(await res.text()).map((f) => [f.name, f]));
    const value = (name: string, labels: Record<string, string>) =>
      Number(families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ?? 0);
    expect(value("backlog_bot_deliveries_total", { event: "pull_request", outcome: "processed" })).toBe(1);
    expect(value("backlog_bot_tasks_created_total", { trigger: "dashboard" })).toBe(1);
    expect(value("backlog_bot_runs_total", { agent: "claude-code", outcome: "changes" })).toBe(1);
    const [run] = query<{ input_tokens: number; output_tokens: number; turns: number }>(dataDir, "select * from runs");
    expect(run?.output_tokens).toBeGreaterThan(0);
    expect(value("backlog_bot_run_tokens_total", { agent: "claude-code", direction: "input" })).toBe(run?.input_tokens);
    expect(value("backlog_bot_run_tokens_total", { agent: "claude-code", direction: "output" })).toBe(run?.output_tokens);
    expect(value("backlog_bot_run_turns_total", { agent: "claude-code" })).toBe(run?.turns);
    expect(value("backlog_bot_tasks", { state: "pr_open" })).toBe(1);
    expect(families.get("backlog_bot_run_duration_seconds")?.metrics[0]?.buckets?.["+Inf"]).toBe("1");
    const ready = (await (await fetch(`${server.url}/ready`)).json()) as { checks: Array<{ name: string }> };
    expect(ready.checks.map((c) => c.name)).toEqual(["store", "migrations", "job_queue", "github", "sandbox"]);
  });
});
