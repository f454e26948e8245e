import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { type GitHubStub, type StubRequest, startGitHubStub } from "../fixtures/github-stub.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** A token-shaped canary: the stub mints it as the installation token; it must surface nowhere. */
export const CANARY_TOKEN = `ghs_${"C4n4ry".repeat(6)}`;
export const WEBHOOK_SECRET = "e2e-webhook-secret-canary-5f1c";

/** Runs git in `cwd` with a fixed identity; returns stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "Ada",
      GIT_AUTHOR_EMAIL: "ada@example.com",
      GIT_COMMITTER_NAME: "Ada",
      GIT_COMMITTER_EMAIL: "ada@example.com",
    },
  });
}

/** A bare repository at `<dir>/remote.git` whose `main` holds `files`; returns its path. */
export function makeRemote(dir: string, files: Record<string, string>): string {
  const work = path.join(dir, "seed");
  mkdirSync(work, { recursive: true });
  git(work, "init", "--quiet", "--initial-branch=main");
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(work, name)), { recursive: true });
    writeFileSync(path.join(work, name), text);
  }
  git(work, "add", "--all");
  git(work, "commit", "--quiet", "-m", "initial");
  const remote = path.join(dir, "remote.git");
  git(dir, "clone", "--quiet", "--bare", work, remote);
  return remote;
}

/** A recorded payload: plain JSON that tests patch at any depth. */
// biome-ignore lint/suspicious/noExplicitAny: recorded payloads are patched at any depth; the handlers' own types check them
export type Payload = Record<string, any>;

/** Recorded payload from test/fixtures/webhooks, with `patch` applied to it. */
export function payload(name: string, patch: (p: Payload) => void = () => {}): Payload {
  const data = JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/webhooks", `${name}.json`), "utf8"));
  patch(data);
  return data;
}

/** The GitHub routes the whole /agent fix path uses, with per-user permissions. */
export async function startStub(permissions: Record<string, string>): Promise<GitHubStub> {
  let nextPr = 7;
  return startGitHubStub({
    "POST /app/installations/:id/access_tokens": () => ({
      status: 201,
      body: { token: CANARY_TOKEN, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: {} },
    }),
    "GET /repos/:owner/:repo/collaborators/:user/permission": (req) => {
      const role = permissions[req.params.user ?? ""] ?? "none";
      const permission = role === "maintain" ? "write" : role === "triage" ? "read" : role;
      return { body: { permission, role_name: role, user: { login: req.params.user } } };
    },
    "POST /repos/:owner/:repo/issues/comments/:id/reactions": () => ({ status: 201, body: { id: 1, content: "rocket" } }),
    "POST /repos/:owner/:repo/issues/:number/comments": (req) => ({
      status: 201,
      body: { id: Math.floor(Math.random() * 1e6), body: (req.body as { body: string }).body },
    }),
    "GET /repos/:owner/:repo/issues/:number": (req) => ({
      body: {
        number: Number(req.params.number),
        title: "Greeting is missing punctuation",
        body: "`greet()` prints `Hello world` but it should print `Hello, world!`.",
        state: "open",
        user: { login: "reporter", type: "User" },
      },
    }),
    "GET /repos/:owner/:repo/issues/:number/comments": () => ({
      body: [
        { id: 3000, body: "Seen on Linux too.", user: { login: "reader", type: "User" } },
        { id: 3001, body: "/agent fix\nKeep the change small.", user: { login: "maintainer", type: "User" } },
      ],
    }),
    "GET /repos/:owner/:repo/issues/:number/events": () => ({ body: [] }),
    "GET /repos/:owner/:repo/issues/:number/timeline": () => ({ body: [] }),
    // The issue's edit history (GraphQL userContentEdits): never edited.
    "POST /api/graphql": () => ({
      body: { data: { repository: { issue: { lastEditedAt: null, userContentEdits: { totalCount: 0, nodes: [] } } } } },
    }),
    "GET /app": () => ({ body: { id: 1, slug: "backlog-bot", name: "backlog-bot" } }),
    "GET /users/:user": (req) => ({ body: { id: 4242, login: req.params.user, type: "Bot" } }),
    "GET /repos/:owner/:repo/pulls": () => ({ body: [] }),
    "POST /repos/:owner/:repo/pulls": (req) => {
      const number = nextPr++;
      return {
        status: 201,
        body: {
          number,
          html_url: `https://github.com/${req.params.owner}/${req.params.repo}/pull/${number}`,
          draft: (req.body as { draft?: boolean }).draft,
        },
      };
    },
  });
}

/** A running `node dist/main.js`, exactly what `npm start` runs. */
export interface ServerProcess {
  url: string;
  /** The server's pid (with `detached`, also its process group id). */
  pid: number;
  output: () => string;
  stop(): Promise<void>;
  /** `kill -9` of the server's whole process group (needs `detached`; else of the server alone); resolves once it was reaped. */
  kill9(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts the built server with Probot's variables pointed at the stub.
 * @throws Error when dist/ is missing (run `npm run build`) or the server does not listen within 30 s.
 */
export async function startServer(
  stub: GitHubStub,
  dataDir: string,
  env: Record<string, string>,
  options: { detached?: boolean } = {},
): Promise<ServerProcess> {
  if (!existsSync(path.join(ROOT, "dist/main.js"))) throw new Error("dist/main.js is missing: run `npm run build` first (npm test does)");
  const port = await freePort();
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, "dist/main.js")], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      APP_ID: "1",
      PRIVATE_KEY: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      WEBHOOK_SECRET,
      HOST: "127.0.0.1",
      PORT: String(port),
      GHE_HOST: stub.host,
      GHE_PROTOCOL: "http",
      LOG_LEVEL: "debug",
      NODE_ENV: "production",
      BACKLOG_BOT_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so a test can kill -9 the server's group as a crash would, without killing itself.
    detached: options.detached ?? false,
  });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!output.includes("backlog-bot started")) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url,
    pid: child.pid as number,
    output: () => output,
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          if (options.detached) process.kill(-(child.pid as number), "SIGKILL");
          else child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
      await exited;
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Sends one webhook delivery, signed as GitHub signs it (X-Hub-Signature-256: HMAC-SHA256 of the body). */
export async function deliver(
  server: ServerProcess,
  event: string,
  body: unknown,
  options: { id?: string; secret?: string } = {},
): Promise<{ status: number; id: string }> {
  const text = JSON.stringify(body);
  const id = options.id ?? randomUUID();
  const signature = createHmac("sha256", options.secret ?? WEBHOOK_SECRET)
    .update(text)
    .digest("hex");
  const response = await fetch(`${server.url}/api/github/webhooks`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": id,
      "x-hub-signature-256": `sha256=${signature}`,
    },
    body: text,
  });
  await response.text();
  return { status: response.status, id };
}

/** Waits until the server has handled (or failed) the delivery with this id; returns its row. */
export async function handled(
  server: { dataDir?: string } | string,
  id: string,
  ms = 30_000,
): Promise<{ status: string; error: string | null }> {
  const dataDir = typeof server === "string" ? server : (server.dataDir ?? "");
  return waitFor(
    () =>
      query<{ status: string; error: string | null }>(
        dataDir,
        "select status, error from deliveries where id = ? and status != 'received'",
        id,
      )[0],
    ms,
    `delivery ${id} to be handled`,
  );
}

/** PostgreSQL stores of servers, by the server's data directory (see `usePostgres`). */
const postgresStores = new Map<string, string>();

/**
 * Tells `query` and `handled` that the server using `dataDir` keeps its store in PostgreSQL at
 * `databaseUrl` (the test passed it as `DATABASE_URL`); without this they read `<dataDir>/backlog-bot.sqlite`.
 */
export function usePostgres(dataDir: string, databaseUrl: string): void {
  postgresStores.set(dataDir, databaseUrl);
}

/** A value as a PostgreSQL literal (test-only: values come from the test, never from outside). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  return `'${String(value).replaceAll("'", "''")}'`;
}

/**
 * Reads the store the server writes (a second connection, as an operator's sqlite3 or psql shell would).
 * On PostgreSQL (`usePostgres`) it runs `psql` synchronously, with the `?` parameters inlined as literals
 * (so no `?` may appear inside the SQL's own string literals); rows come back through `json_agg`.
 */
export function query<T>(dataDir: string, sql: string, ...params: unknown[]): T[] {
  const databaseUrl = postgresStores.get(dataDir);
  if (databaseUrl) {
    const parts = sql.split("?");
    if (parts.length !== params.length + 1) throw new Error(`query: ${parts.length - 1} placeholders, ${params.length} parameters`);
    const inlined = parts.reduce((text, part, i) => text + literal(params[i - 1]) + part);
    const json = execFileSync(
      "psql",
      [databaseUrl, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", `select coalesce(json_agg(t), '[]') from (${inlined}) t`],
      { encoding: "utf8" },
    );
    return JSON.parse(json) as T[];
  }
  const db = new Database(path.join(dataDir, "backlog-bot.sqlite"), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Polls `check` every 100 ms until it returns a value, or throws after `ms`. */
export async function waitFor<T>(check: () => T | undefined, ms = 60_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Requests the stub received matching method and path pattern. */
export function calls(stub: GitHubStub, method: string, pattern: RegExp): StubRequest[] {
  return stub.requests.filter((r) => r.method === method && pattern.test(r.path));
}
