/**
 * Webhook ingest (issue 8): backlog-bot as `npm start` runs it (`node dist/main.js`, with a GitHub
 * API stub) against a bare Probot app (Probot's own `Server`, whose webhook route is Probot's
 * `createNodeMiddleware`, same secret, one empty `onAny` handler), each its own process on
 * 127.0.0.1. Both get the same real `issue_comment.created` payload (from @octokit/webhooks-examples)
 * with a valid signature and a unique `X-GitHub-Delivery` per request (a repeated id would only
 * exercise the duplicate path), driven by autocannon at a fixed 400 req/s and then at max, in one
 * run. After each backlog-bot run the bench waits until its worker has handled every delivery, so
 * its background work never overlaps the bare app's measurement. Targets: throughput ≥ 0.6× the
 * bare app's, p99 ≤ 2× its p99.
 *
 *   npm run build && npx tsx bench/ingest.ts
 *   (INGEST_SECONDS per run, default 10; INGEST_RATE, default 400; INGEST_CONNECTIONS at max, default 32;
 *    INGEST_LOG_LEVEL for both servers, default info, their shared default)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import Database from "better-sqlite3";
import { Probot, Server } from "probot";
import { startGitHubStub } from "../test/fixtures/github-stub.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SECRET = "bench-ingest-webhook-secret";
const SECONDS = Number(process.env.INGEST_SECONDS ?? 10);
const RATE = Number(process.env.INGEST_RATE ?? 400);
const CONNECTIONS = Number(process.env.INGEST_CONNECTIONS ?? 32);
const LOG_LEVEL = process.env.INGEST_LOG_LEVEL ?? "info";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bare Probot app, run in a child process: `tsx bench/ingest.ts bare-app` with PORT, APP_ID, PRIVATE_KEY, WEBHOOK_SECRET set. */
async function bareApp(): Promise<void> {
  const server = new Server({
    Probot: Probot.defaults({ appId: Number(process.env.APP_ID), privateKey: process.env.PRIVATE_KEY, secret: process.env.WEBHOOK_SECRET }),
    host: "127.0.0.1",
    port: Number(process.env.PORT),
  });
  await server.load((app) => {
    app.onAny(async () => {});
  });
  await server.start();
}

/** The `issue_comment.created` example of @octokit/webhooks-examples that carries an installation (as every App delivery does). */
function realPayload(): string {
  const file = createRequire(import.meta.url).resolve("@octokit/webhooks-examples");
  const groups = JSON.parse(readFileSync(file, "utf8")) as { name: string; examples: { action?: string; installation?: unknown }[] }[];
  const example = groups.find((g) => g.name === "issue_comment")?.examples.find((e) => e.action === "created" && e.installation);
  if (!example) throw new Error("@octokit/webhooks-examples has no issue_comment.created with an installation");
  return JSON.stringify(example);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Spawns a server whose output goes to `log` and waits until `GET /ping` answers 200 (30 s at most). */
async function spawnServer(args: string[], env: Record<string, string>, log: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const fd = openSync(log, "a");
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: "production", LOG_LEVEL, HOST: "127.0.0.1", PORT: String(port), ...env } as NodeJS.ProcessEnv,
    stdio: ["ignore", fd, fd],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${args.join(" ")} did not start; see ${log}`);
    const ok = await fetch(`${url}/ping`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url, child };
    await sleep(100);
  }
}

interface Run {
  target: string;
  mode: string;
  /** CPU time (user + system) the server spent per 2xx answer, ms: for backlog-bot including its worker's handling of those deliveries. */
  cpuPerRequest: number;
  /** 2xx answers per second over the run. */
  throughput: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** CPU time (user + system, ms) a process has used: fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 10 ms (`getconf CLK_TCK` is 100 on Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * One autocannon run against the webhook route: the same body and signature, a fresh delivery id
 * per request. `settle` runs before the CPU time is read again (backlog-bot: until its worker has
 * handled what the run recorded, so that work is counted).
 */
async function drive(
  target: string,
  server: { url: string; child: ChildProcess },
  body: string,
  mode: "rate" | "max",
  seconds = SECONDS,
  settle: () => Promise<unknown> = async () => {},
): Promise<Run> {
  const { url } = server;
  const pid = server.child.pid as number;
  const cpuBefore = cpuMs(pid);
  const signature = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
  const headers = { "content-type": "application/json", "x-github-event": "issue_comment", "x-hub-signature-256": signature };
  const result = await autocannon({
    url: `${url}/api/github/webhooks`,
    connections: mode === "rate" ? 10 : CONNECTIONS,
    ...(mode === "rate" && { overallRate: RATE }),
    duration: seconds,
    requests: [
      {
        method: "POST",
        body,
        headers,
        setupRequest: (req) => ({
          ...req,
          headers: { ...req.headers, "x-github-delivery": randomUUID() },
        }),
      },
    ],
  });
  await settle();
  return {
    target,
    mode: mode === "rate" ? `${RATE} req/s` : `max (${CONNECTIONS} connections)`,
    cpuPerRequest: (cpuMs(pid) - cpuBefore) / Math.max(1, result["2xx"]),
    throughput: result["2xx"] / (result.duration || seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** Waits until backlog-bot's worker has handled every recorded delivery; returns how long that took (ms) and how many there are. */
async function drained(dataDir: string): Promise<{ ms: number; total: number }> {
  const started = Date.now();
  const db = new Database(path.join(dataDir, "backlog-bot.sqlite"), { readonly: true, fileMustExist: true });
  try {
    const waiting = db.prepare("select count(*) from deliveries where status = 'received'").pluck();
    while ((waiting.get() as number) > 0) {
      if (Date.now() - started > 300_000) throw new Error("backlog-bot did not handle its deliveries within 5 minutes");
      await sleep(200);
    }
    return { ms: Date.now() - started, total: db.prepare("select count(*) from deliveries").pluck().get() as number };
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "backlog-bot-bench-ingest-"));
  const dataDir = path.join(dir, "data");
  const body = realPayload();
  const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const app = { APP_ID: "1", PRIVATE_KEY: privateKey, WEBHOOK_SECRET: SECRET };
  const stub = await startGitHubStub({
    "POST /app/installations/:id/access_tokens": () => ({
      status: 201,
      body: { token: "ghs_bench", expires_at: new Date(Date.now() + 3600_000).toISOString() },
    }),
  });
  const bare = await spawnServer([...process.execArgv, fileURLToPath(import.meta.url), "bare-app"], app, path.join(dir, "bare.log"));
  const ours = await spawnServer(
    [path.join(ROOT, "dist/main.js")],
    { ...app, GHE_HOST: stub.host, GHE_PROTOCOL: "http", BACKLOG_BOT_DATA_DIR: dataDir },
    path.join(dir, "backlog-bot.log"),
  );
  const runs: Run[] = [];
  const drains: string[] = [];
  try {
    // Warm both (JIT, SQLite pages), then let backlog-bot's worker catch up.
    await drive("bare", bare, body, "max", 3);
    await drive("backlog-bot", ours, body, "max", 3, () => drained(dataDir));
    for (const mode of ["rate", "max"] as const) {
      runs.push(await drive("bare Probot app", bare, body, mode));
      let drain = { ms: 0, total: 0 };
      runs.push(
        await drive("backlog-bot (npm start)", ours, body, mode, SECONDS, async () => {
          drain = await drained(dataDir);
        }),
      );
      const { ms, total } = drain;
      drains.push(
        `after the ${mode === "rate" ? `${RATE} req/s` : "max"} run: handled the rest in ${(ms / 1000).toFixed(1)} s (${total} deliveries recorded so far)`,
      );
    }
  } finally {
    bare.child.kill("SIGTERM");
    ours.child.kill("SIGTERM");
    await stub.close();
  }
  await sleep(1000);
  rmSync(dir, { recursive: true, force: true });

  console.log(
    `\nIngest, ${SECONDS} s per run, payload ${Buffer.byteLength(body)} bytes, LOG_LEVEL=${LOG_LEVEL}, load average ${loadavg()[0]?.toFixed(1)}\n`,
  );
  console.log("| server | load | 2xx/s | p50 ms | p99 ms | non-2xx | errors | CPU ms per 2xx |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of runs) {
    console.log(
      `| ${r.target} | ${r.mode} | ${r.throughput.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} | ${r.cpuPerRequest.toFixed(2)} |`,
    );
  }
  console.log("");
  for (let i = 0; i < runs.length; i += 2) {
    const [b, o] = [runs[i] as Run, runs[i + 1] as Run];
    const t = o.throughput / b.throughput;
    const p = o.p99 / b.p99;
    const verdict = `${t >= 0.6 ? "meets" : "misses"} ≥ 0.6x; ${p <= 2 ? "meets" : "misses"} ≤ 2x`;
    console.log(
      `${b.mode}: throughput ${t.toFixed(2)}x the bare app, p99 ${p.toFixed(2)}x (${verdict}); CPU per delivery ${(o.cpuPerRequest / b.cpuPerRequest).toFixed(1)}x`,
    );
  }
  for (const d of drains) console.log(`backlog-bot ${d}`);
}

if (process.argv[2] === "bare-app") await bareApp();
else await main();
