import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Octokit } from "@octokit/rest";
import type { RequestDeps } from "../../../src/executor/requests.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { createLogger } from "../../../src/util/logger.js";
import { createGitHubRepoAccess } from "../../../src/web/auth/access.js";
import type { WebDeps } from "../../../src/web/deps.js";
import { createWebHandler } from "../../../src/web/index.js";
import { createTaskRequests } from "../../../src/web/requests.js";
import type { Backend } from "../../support/backends.js";

/** Roles of the stub's people per repository (absent: no access). */
export const PEOPLE: Record<string, Record<string, "admin" | "write" | "read">> = {
  alice: { "o/a": "write", "o/b": "read" },
  bob: { "o/a": "read" },
  carol: {},
};
export const INSTALLATION = 7;
export const API_TOKEN = "operator-token-0123456789";

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/**
 * A stub of GitHub over real HTTP: the OAuth web flow (`/login/oauth/authorize` approves as
 * `nextLogin`, `/login/oauth/access_token` trades the code for `token-<login>`), `GET /user`, the
 * installation's repositories per person, and collaborator permissions from `PEOPLE`.
 */
export async function startGitHubStub(): Promise<{
  url: string;
  nextLogin: { value: string };
  requests: string[];
  close(): Promise<void>;
}> {
  const nextLogin = { value: "alice" };
  const requests: string[] = [];
  const loginOf = (req: IncomingMessage) => /^(?:token|Bearer) token-(\w+)$/.exec(req.headers.authorization ?? "")?.[1];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stub");
    requests.push(`${req.method} ${url.pathname}`);
    if (url.pathname === "/login/oauth/authorize") {
      const back = new URL(url.searchParams.get("redirect_uri") ?? "");
      back.searchParams.set("code", `code-${nextLogin.value}`);
      back.searchParams.set("state", url.searchParams.get("state") ?? "");
      res.writeHead(302, { location: back.toString() });
      res.end();
      return;
    }
    if (url.pathname === "/login/oauth/access_token" && req.method === "POST") {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        const code = (JSON.parse(body || "{}") as { code?: string }).code ?? "";
        const login = code.replace(/^code-/, "");
        if (!(login in PEOPLE)) return json(res, 200, { error: "bad_verification_code" });
        json(res, 200, { access_token: `token-${login}`, token_type: "bearer", scope: "" });
      });
      return;
    }
    const login = loginOf(req);
    if (url.pathname === "/user")
      return login ? json(res, 200, { login, id: 1, type: "User" }) : json(res, 401, { message: "Bad credentials" });
    const installRepos = /^\/user\/installations\/(\d+)\/repositories$/.exec(url.pathname);
    if (installRepos) {
      if (!login) return json(res, 401, { message: "Bad credentials" });
      if (Number(installRepos[1]) !== INSTALLATION) return json(res, 404, { message: "Not Found" });
      const repositories = Object.keys(PEOPLE[login] ?? {}).map((full_name) => ({ full_name }));
      return json(res, 200, { total_count: repositories.length, repositories });
    }
    const permission = /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)\/permission$/.exec(url.pathname);
    if (permission) {
      const role = PEOPLE[permission[3] ?? ""]?.[`${permission[1]}/${permission[2]}`] ?? "none";
      return json(res, 200, { permission: role, role_name: role, user: { login: permission[3] } });
    }
    json(res, 404, { message: "Not Found" });
  });
  const url = await listen(server);
  return { url, nextLogin, requests, close: () => new Promise((r) => server.close(() => r())) };
}

/** A store with three repositories (o/a, o/b, o/c), findings, and a task with a run and its transcript. */
export async function seedStore(
  backend?: Backend,
): Promise<{ db: Db; dir: string; ids: Record<string, number>; remove?: () => Promise<void> }> {
  let dir = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-web-"));
  let db: Db;
  let remove: (() => Promise<void>) | undefined;
  if (backend) {
    const store = await backend.fresh({ cleanup: false });
    ({ db, remove } = store);
    dir = store.dataDir;
  } else db = await openDb(dir);
  const at = new Date().toISOString();
  const repo = async (full_name: string, config: unknown = { prHourlyLimit: 0, prConcurrentLimit: 0 }) =>
    (
      await db
        .insertInto("repositories")
        .values({
          full_name,
          installation_id: INSTALLATION,
          default_branch: "main",
          config: JSON.stringify(config),
          created_at: at,
          updated_at: at,
        })
        .returning("id")
        .executeTakeFirstOrThrow()
    ).id;
  const ids: Record<string, number> = { a: await repo("o/a"), b: await repo("o/b"), c: await repo("o/c", { prHourlyLimit: 1 }) };
  const finding = async (repository_id: number, n: number) =>
    (
      await db
        .insertInto("findings")
        .values({
          repository_id,
          fingerprint: `fp-${repository_id}-${n}`,
          kind: "todo",
          title: `TODO: fix thing ${n} <script>alert(1)</script>`,
          path: `src/file-${n}.ts`,
          line: n + 1,
          signals: JSON.stringify({ marker: n % 2 ? "FIXME" : "TODO" }),
          first_seen_at: at,
          last_seen_at: at,
        })
        .returning("id")
        .executeTakeFirstOrThrow()
    ).id;
  for (let n = 0; n < 5; n++) ids[`a${n}`] = await finding(ids.a as number, n);
  ids.b0 = await finding(ids.b as number, 0);
  ids.c0 = await finding(ids.c as number, 0);
  ids.c1 = await finding(ids.c as number, 1);
  ids.task = (
    await db
      .insertInto("tasks")
      .values({
        repository_id: ids.a as number,
        finding_id: ids.a4 as number,
        title: "TODO: fix thing 4",
        state: "failed",
        agent: "claude-code",
        requested_by: "alice",
        trigger: "dashboard",
        error: "the agent failed",
        created_at: at,
        updated_at: at,
      })
      .returning("id")
      .executeTakeFirstOrThrow()
  ).id;
  const transcript = path.join(dir, "run.log");
  writeFileSync(
    transcript,
    [
      "$ claude -p --output-format stream-json",
      JSON.stringify({ type: "system", subtype: "init", model: "claude-test" }),
      JSON.stringify({
        type: "assistant",
        message: {
          content: [
            { type: "text", text: "I will read the file." },
            { type: "tool_use", id: "t1", name: "Read", input: { file_path: "src/file-4.ts" } },
          ],
        },
      }),
      JSON.stringify({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: "t1", content: "export const x = 1;" }] } }),
      JSON.stringify({ type: "result", subtype: "success", result: "Done.", num_turns: 2, total_cost_usd: 0.25 }),
    ].join("\n"),
  );
  ids.run = (
    await db
      .insertInto("runs")
      .values({
        task_id: ids.task as number,
        agent: "claude-code",
        started_at: at,
        ended_at: at,
        outcome: "failed",
        turns: 2,
        input_tokens: 100,
        output_tokens: 20,
        cost_usd: 0.25,
        verification: "failed: 1 of 3 tests",
        transcript_path: transcript,
      })
      .returning("id")
      .executeTakeFirstOrThrow()
  ).id;
  return { db, dir, ids, ...(remove && { remove }) };
}

/** A web server under test: the handler on a plain node:http server; unknown paths 404 like the server's last handler. */
export interface WebUnderTest {
  url: string;
  db: Db;
  ids: Record<string, number>;
  github: Awaited<ReturnType<typeof startGitHubStub>>;
  enqueued: number[];
  close(): Promise<void>;
}

/** Starts the handler over a seeded store (SQLite in a temp directory, or a `backend` from test/support/backends.ts). */
export async function startWeb(overrides: Partial<WebDeps> = {}, backend?: Backend): Promise<WebUnderTest> {
  const github = await startGitHubStub();
  const { db, ids, remove } = await seedStore(backend);
  const log = createLogger({ level: "silent" });
  const enqueued: number[] = [];
  const requestDeps: RequestDeps = {
    db,
    log,
    agents: {
      enabled: ["command"],
      get: (name) => (name === "command" ? { name, run: async () => Promise.reject(new Error("not run in web tests")) } : undefined),
    },
    runner: { enqueue: async (id: number) => void enqueued.push(id), abortLocal: () => false },
    jobs: { add: async () => "1" } as unknown as RequestDeps["jobs"],
  };
  const handler = createWebHandler({
    db,
    log,
    access: createGitHubRepoAccess({
      db,
      apiBaseUrl: github.url,
      cacheMs: 0,
      installationOctokit: async () => new Octokit({ baseUrl: github.url, auth: "installation-token" }),
    }),
    requests: createTaskRequests(requestDeps),
    oauth: { clientId: "Iv1.test", clientSecret: "secret", apiBaseUrl: github.url },
    sessionSecret: "test-session-secret",
    apiToken: API_TOKEN,
    ...overrides,
  });
  const server = createServer((req, res) => {
    void Promise.resolve(handler(req, res)).then((handled) => {
      if (!handled) {
        res.writeHead(404);
        res.end("not found");
      }
    });
  });
  const url = await listen(server);
  return {
    url,
    db,
    ids,
    github,
    enqueued,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await github.close();
      if (remove) await remove();
      else await db.destroy();
    },
  };
}

/** Signs `login` in through the stub OAuth flow with plain fetch; returns the cookie header and the CSRF token. */
export async function signIn(web: WebUnderTest, login: string): Promise<{ cookie: string; csrf: string }> {
  web.github.nextLogin.value = login;
  const start = await fetch(`${web.url}/login`, { redirect: "manual" });
  const stateCookie = (start.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const atGitHub = await fetch(start.headers.get("location") ?? "", { redirect: "manual" });
  const callback = await fetch(atGitHub.headers.get("location") ?? "", { redirect: "manual", headers: { cookie: stateCookie } });
  const session = callback.headers.getSetCookie().find((c) => c.startsWith("bb_session="));
  if (!session) throw new Error(`sign-in failed: ${callback.status}`);
  const cookie = session.split(";")[0] ?? "";
  const page = await (await fetch(`${web.url}/`, { headers: { cookie } })).text();
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? "";
  return { cookie, csrf };
}
