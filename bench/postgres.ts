/**
 * PostgreSQL against SQLite (issue 13), real processes and real HTTP:
 *
 * 1. Job pickup latency: enqueue-to-start of 200 jobs added 25 ms apart to an idle worker, on the
 *    SQLite jobs table and on graphile-worker (in-process backends; p50/p95/p99/max).
 * 2. Ingest of the web role: `dist/main.js --role web` takes signed `issue_comment` deliveries sent
 *    open-loop at 400/s for 10 s (each at its scheduled time, whatever the answers before it); latency
 *    from scheduled send to answer, and deliveries answered per second.
 * 3. Task throughput: one web and 1 or 3 workers on PostgreSQL, 24 `/agent fix` requests (one
 *    repository each) with a command agent that takes 1 s; tasks ended per minute.
 *
 *   source .ci/postgres.sh && npm run build && npx tsx bench/postgres.ts
 *   (DATABASE_URL_BENCH or DATABASE_URL_TEST: a server where databases may be created; BENCH_PARTS=1,2,3)
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { createGraphileJobs } from "../src/jobs/graphile.js";
import { createSqliteJobs } from "../src/jobs/sqlite.js";
import type { Jobs } from "../src/jobs/types.js";
import { openDb } from "../src/store/db.js";
import { startRole } from "../test/e2e/processes.js";
import { createTestDatabase } from "../test/support/postgres.js";
import { deliverBody, makeRemote, payload, startStub } from "./postgres-support.js";

const PG = process.env.DATABASE_URL_BENCH ?? process.env.DATABASE_URL_TEST;
if (!PG) throw new Error("set DATABASE_URL_BENCH or DATABASE_URL_TEST (source .ci/postgres.sh)");
process.env.DATABASE_URL_TEST = PG;
const PARTS = new Set((process.env.BENCH_PARTS ?? "1,2,3").split(","));
const log = pino({ level: "silent" });
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
};
const fmt = (n: number) => n.toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pickup(name: string, jobs: Jobs): Promise<void> {
  const latencies: number[] = [];
  jobs.handle("ping", async (p: { at: number }) => {
    latencies.push(performance.timeOrigin + performance.now() - p.at);
  });
  await jobs.start();
  for (let i = 0; i < 10; i++) await jobs.add({ kind: "ping", payload: { at: performance.timeOrigin + performance.now() } });
  await jobs.drain();
  latencies.length = 0;
  for (let i = 0; i < 200; i++) {
    await jobs.add({ kind: "ping", payload: { at: performance.timeOrigin + performance.now() } });
    await sleep(25);
  }
  await jobs.drain();
  await jobs.stop(1000);
  console.log(
    `| ${name} | ${latencies.length} | ${fmt(quantile(latencies, 0.5))} | ${fmt(quantile(latencies, 0.95))} | ${fmt(quantile(latencies, 0.99))} | ${fmt(Math.max(...latencies))} |`,
  );
}

async function partPickup(): Promise<void> {
  console.log("\n1. Job pickup latency (enqueue to start, ms), 200 jobs 25 ms apart, idle worker\n");
  console.log("| backend | jobs | p50 | p95 | p99 | max |\n| --- | ---: | ---: | ---: | ---: | ---: |");
  const dir = mkdtempSync(path.join(tmpdir(), "backlog-bot-bench-pg-"));
  const sqliteDb = await openDb(dir);
  await pickup("SQLite jobs table (poll 500 ms, woken on add in-process)", createSqliteJobs({ db: sqliteDb, log }));
  await sqliteDb.destroy();
  const database = await createTestDatabase();
  const pgDb = await openDb(dir, { databaseUrl: database.url });
  await pickup("graphile-worker (LISTEN/NOTIFY)", createGraphileJobs({ connectionString: database.url, log }));
  await pgDb.destroy();
  await database.drop();
}

/** One open-loop run at `rate` deliveries/s for `seconds` against a web process; returns the latencies (ms) and achieved rate. */
async function ingest(url: string, rate: number, seconds: number): Promise<{ latencies: number[]; perSecond: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(`${url}/api/github/webhooks`);
  const latencies: number[] = [];
  let errors = 0;
  const total = rate * seconds;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  const base = payload("issue_comment.created");
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    base.issue.number = 1 + (i % 500);
    const { body, headers } = deliverBody("issue_comment", base);
    pending.push(
      new Promise<void>((resolve) => {
        const req = request(
          target,
          { method: "POST", agent, headers: { ...headers, "content-length": Buffer.byteLength(body) } },
          (res) => {
            res.resume();
            res.on("end", () => {
              if (res.statusCode === 202) latencies.push(performance.now() - due);
              else errors++;
              resolve();
            });
          },
        );
        req.on("error", () => {
          errors++;
          resolve();
        });
        req.end(body);
      }),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  return { latencies, perSecond: latencies.length / elapsed, errors };
}

async function partIngest(): Promise<void> {
  console.log("\n2. Web role ingest, 400 deliveries/s for 10 s, open loop (ms from scheduled send to 202)\n");
  console.log("| store | answered/s | errors | p50 | p95 | p99 | max |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  const stub = await startStub({});
  for (const store of ["sqlite", "postgres"] as const) {
    const dir = mkdtempSync(path.join(tmpdir(), "backlog-bot-bench-ingest-"));
    const database = store === "postgres" ? await createTestDatabase() : undefined;
    const web = await startRole(stub, "web", { BACKLOG_BOT_DATA_DIR: dir, ...(database && { DATABASE_URL: database.url }) });
    await ingest(web.url, 100, 2);
    const { latencies, perSecond, errors } = await ingest(web.url, 400, 10);
    console.log(
      `| ${store} | ${fmt(perSecond)} | ${errors} | ${fmt(quantile(latencies, 0.5))} | ${fmt(quantile(latencies, 0.95))} | ${fmt(quantile(latencies, 0.99))} | ${fmt(Math.max(...latencies))} |`,
    );
    await web.stop();
    await database?.drop();
  }
  await stub.close();
}

async function tasks(workerCount: number, requests: number): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), "backlog-bot-bench-tasks-"));
  const remote = makeRemote(dir, { "greet.js": 'export const greet = () => console.log("Hello world");\n' });
  const agent = path.join(dir, "agent.mjs");
  writeFileSync(
    agent,
    `import { readFileSync, writeFileSync } from "node:fs";
readFileSync(0, "utf8");
await new Promise((r) => setTimeout(r, 1000));
writeFileSync("greet.js", readFileSync("greet.js", "utf8").replace("Hello world", "Hello, world!"));
`,
  );
  const database = await createTestDatabase();
  const stub = await startStub({ maintainer: "maintain" });
  const env = { DATABASE_URL: database.url, BACKLOG_BOT_AGENT_COMMAND: `${process.execPath} ${agent}` };
  const own = (name: string) => {
    const d = path.join(dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const processes = [await startRole(stub, "web", { ...env, BACKLOG_BOT_DATA_DIR: own("web") })];
  for (let i = 0; i < workerCount; i++) processes.push(await startRole(stub, "worker", { ...env, BACKLOG_BOT_DATA_DIR: own(`w${i}`) }));
  const db = await openDb(dir, { databaseUrl: database.url });
  const started = performance.now();
  for (let n = 1; n <= requests; n++) {
    const { body, headers } = deliverBody(
      "issue_comment",
      payload("issue_comment.created", (p) => {
        p.repository.clone_url = `file://${remote}`;
        p.repository.full_name = `octo-org/widgets-${n}`;
        p.repository.name = `widgets-${n}`;
        p.repository.id = 900_000 + n;
        p.issue.number = n;
      }),
    );
    await fetch(`${processes[0]?.url}/api/github/webhooks`, { method: "POST", headers, body });
  }
  for (;;) {
    const rows = await db.selectFrom("tasks").select("state").execute();
    if (rows.length === requests && rows.every((r) => r.state !== "queued" && r.state !== "running")) break;
    if (performance.now() - started > 900_000) throw new Error("tasks did not end within 15 minutes");
    await sleep(200);
  }
  const minutes = (performance.now() - started) / 60_000;
  for (const p of processes) await p.stop();
  await db.destroy();
  await stub.close();
  await database.drop();
  return requests / minutes;
}

async function partTasks(): Promise<void> {
  console.log("\n3. Task throughput on PostgreSQL, 24 /agent fix requests, 1-s command agent, BACKLOG_BOT_CONCURRENCY=1 per worker\n");
  const one = await tasks(1, 24);
  const three = await tasks(3, 24);
  console.log(
    `| workers | tasks/min |\n| ---: | ---: |\n| 1 | ${fmt(one)} |\n| 3 | ${fmt(three)} |\n\nspeed-up: ${(three / one).toFixed(2)}x`,
  );
}

console.log(
  `Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
if (PARTS.has("1")) await partPickup();
if (PARTS.has("2")) await partIngest();
if (PARTS.has("3")) await partTasks();
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
process.exit(0);
