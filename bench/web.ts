/**
 * Web layer under load (issue 12): server time and size of the dashboard pages with 10,000
 * findings and 1,000 tasks in one repository, and SSE fan-out latency (100 open streams, one event).
 * The handler runs on a plain node:http server over a real SQLite store; requests are real HTTP
 * from this process. Times are wall-clock ms from request to last byte (median and p95 of the rounds).
 *
 *   npx tsx bench/web.ts      (BENCH_ROUNDS=n to change the 20 rounds)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, get } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { openDb } from "../src/store/db.js";
import { createLogger } from "../src/util/logger.js";
import { publish } from "../src/web/events.js";
import { createWebHandler } from "../src/web/index.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const FINDINGS = 10_000;
const TASKS = 1_000;
const STREAMS = 100;
const TOKEN = "bench-token-0123456789";

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? Number.NaN;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "backlog-bot-bench-web-"));
  const db = await openDb(dir);
  const at = new Date().toISOString();
  const { id: repo } = await db
    .insertInto("repositories")
    .values({ full_name: "o/big", installation_id: 1, default_branch: "main", created_at: at, updated_at: at })
    .returning("id")
    .executeTakeFirstOrThrow();
  const markers = ["TODO", "FIXME", "HACK", "XXX"];
  for (let i = 0; i < FINDINGS; i += 500) {
    await db
      .insertInto("findings")
      .values(
        Array.from({ length: 500 }, (_, j) => {
          const n = i + j;
          const day = new Date(Date.UTC(2018, 0, 1) + (n % 2500) * 86_400_000).toISOString();
          return {
            repository_id: repo,
            fingerprint: `fp-${n}`,
            kind: "todo" as const,
            title: `${markers[n % 4]}: item ${n % 3000} needs work in module ${n % 97}`,
            path: `src/module-${n % 97}/file-${n % 400}.ts`,
            line: (n % 900) + 1,
            signals: JSON.stringify({ marker: markers[n % 4], authoredAt: day }),
            first_seen_at: day,
            last_seen_at: at,
          };
        }),
      )
      .execute();
  }
  const states = ["merged", "closed", "failed", "no_changes", "pr_open", "cancelled", "merged", "merged"] as const;
  for (let i = 0; i < TASKS; i += 250) {
    const rows = await db
      .insertInto("tasks")
      .values(
        Array.from({ length: 250 }, (_, j) => {
          const n = i + j;
          const created = new Date(Date.now() - (n % 84) * 86_400_000).toISOString();
          return {
            repository_id: repo,
            finding_id: n + 1,
            title: `task ${n}`,
            state: states[n % states.length] ?? "merged",
            agent: "claude-code",
            pr_number: n,
            requested_by: "alice",
            trigger: "dashboard" as const,
            created_at: created,
            updated_at: created,
            ended_at: created,
          };
        }),
      )
      .returning("id")
      .execute();
    await db
      .insertInto("runs")
      .values(
        rows.map((r) => ({
          task_id: r.id,
          agent: "claude-code",
          started_at: at,
          ended_at: at,
          outcome: "changes" as const,
          turns: 5,
          input_tokens: 1000,
          output_tokens: 200,
          cost_usd: 0.4,
        })),
      )
      .execute();
  }

  const handler = createWebHandler({
    db,
    log: createLogger({ level: "silent" }),
    access: { readable: async () => "all", canWrite: async () => true },
    sessionSecret: "bench",
    apiToken: TOKEN,
  });
  const server = createServer((req, res) => {
    void handler(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const headers = { authorization: `Bearer ${TOKEN}` };

  console.log(
    `web bench: ${FINDINGS} findings, ${TASKS} tasks with runs; ${ROUNDS} rounds; ${cpus().length} cores, load ${loadavg()[0]?.toFixed(2)}`,
  );
  console.log("| page | median ms | p95 ms | bytes |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const [label, url] of [
    ["overview `/`", "/"],
    ["backlog `/repos/o/big` (50 of 10,000 ranked)", "/repos/o/big"],
    ["backlog page 100 (`?cursor=5000`)", "/repos/o/big?cursor=5000"],
    ["backlog right after a scan changed a finding (ranks again)", "/repos/o/big?changed"],
    ["outcomes `/outcomes`", "/outcomes"],
    ["API `GET /api/v1/repositories/o/big/backlog`", "/api/v1/repositories/o/big/backlog"],
    ["API `GET /api/v1/tasks?limit=200`", "/api/v1/tasks?limit=200"],
  ] as const) {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < ROUNDS + 2; i++) {
      if (url.endsWith("?changed")) {
        // A scan saw one finding again: the ranking's version changes, so this request ranks all 10,000.
        await db
          .updateTable("findings")
          .set({ last_seen_at: new Date(Date.now() + i).toISOString() })
          .where("id", "=", 1)
          .execute();
      }
      const t0 = performance.now();
      const res = await fetch(`${base}${url}`, { headers });
      const body = await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
      if (i >= 2) times.push(performance.now() - t0); // two warm-up requests
      bytes = body.byteLength;
    }
    console.log(`| ${label} | ${quantile(times, 0.5).toFixed(1)} | ${quantile(times, 0.95).toFixed(1)} | ${bytes.toLocaleString("en")} |`);
  }

  // SSE fan-out: STREAMS open streams; one publish; time until every stream has the event.
  const streams = await Promise.all(
    Array.from(
      { length: STREAMS },
      () =>
        new Promise<{ next: () => Promise<number> }>((resolve) => {
          get(`${base}/api/v1/events`, { headers }, (res) => {
            res.setEncoding("utf8");
            let waiting: ((t: number) => void) | undefined;
            res.on("data", (chunk: string) => {
              if (chunk.includes("event: task") && waiting) waiting(performance.now());
            });
            resolve({
              next: () =>
                new Promise<number>((r) => {
                  waiting = r;
                }),
            });
          });
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 200));
  const last: number[] = [];
  const median: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const arrivals = streams.map((s) => s.next());
    const t0 = performance.now();
    publish({ type: "task", taskId: 1, repository: "o/big", state: "running" });
    const times = (await Promise.all(arrivals)).map((t) => t - t0);
    last.push(Math.max(...times));
    median.push(quantile(times, 0.5));
  }
  console.log(
    `\nSSE fan-out, ${STREAMS} streams, one event, ${ROUNDS} rounds: median stream ${quantile(median, 0.5).toFixed(2)} ms; last stream median ${quantile(last, 0.5).toFixed(2)} ms, p95 ${quantile(last, 0.95).toFixed(2)} ms`,
  );
  server.closeAllConnections();
  server.close();
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
}

await main();
