import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Octokit } from "@octokit/rest";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import { metrics, recordRunMetrics } from "../../../src/util/metrics.js";
import { githubCheck, jobQueueCheck } from "../../../src/web/health.js";
import { connectMetricSources } from "../../../src/web/metrics-sources.js";
import { startGitHubStub, startWeb, type WebUnderTest } from "./support.js";

const open: WebUnderTest[] = [];
afterEach(async () => {
  for (const web of open.splice(0)) await web.close();
});

async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((r) => server.close(() => r()));
  return url;
}

describe("/ready", () => {
  it("is ready when every dependency answers, naming each check", async () => {
    const stub = await startGitHubStub();
    const web = await startWeb({
      readyChecks: {
        job_queue: jobQueueCheck(async () => ({ oldestDueMs: 1000 })),
        github: githubCheck(() => new Octokit({ baseUrl: stub.url, auth: "token-alice" }).rest.users.getAuthenticated()),
        sandbox: async () => {},
      },
    });
    open.push(web);
    const res = await fetch(`${web.url}/ready`);
    const body = (await res.json()) as { status: string; checks: Array<{ name: string; ok: boolean }> };
    await stub.close();
    expect(res.status).toBe(200);
    expect(body.status).toBe("ready");
    expect(body.checks.map((c) => `${c.name}:${c.ok}`)).toEqual([
      "store:true",
      "migrations:true",
      "job_queue:true",
      "github:true",
      "sandbox:true",
    ]);
  });

  it("answers 503 naming each failing dependency: store unreadable, GitHub unreachable, queue stuck", async () => {
    const unreachable = await closedPort();
    const web = await startWeb({
      readyChecks: {
        job_queue: jobQueueCheck(async () => ({ oldestDueMs: 3_600_000 })),
        github: githubCheck(() => new Octokit({ baseUrl: unreachable, request: { retries: 0 } }).rest.apps.getAuthenticated()),
      },
    });
    open.push(web);
    await web.db.destroy(); // the store is gone: its connection pool is closed
    const res = await fetch(`${web.url}/ready`);
    const body = (await res.json()) as { status: string; checks: Array<{ name: string; ok: boolean; error?: string }> };
    expect(res.status).toBe(503);
    expect(body.status).toBe("not_ready");
    const failing = Object.fromEntries(body.checks.filter((c) => !c.ok).map((c) => [c.name, c.error]));
    expect(Object.keys(failing).sort()).toEqual(["github", "job_queue", "migrations", "store"]);
    expect(failing.job_queue).toContain("3600 s");
    expect((await fetch(`${web.url}/health`)).status).toBe(200);
    open.pop();
    await web.close().catch(() => {});
  });
});

describe("/metrics", () => {
  it("serves Prometheus text that parses, with store gauges and recorded counters, without credentials when public", async () => {
    const web = await startWeb({ metrics: true });
    open.push(web);
    connectMetricSources(web.db, { stats: async () => ({ pending: 3, running: 1, dead: 0, oldestDueMs: 4500 }) });
    metrics.deliveries.inc({ event: "issue_comment", outcome: "processed" });
    metrics.tasksCreated.inc({ trigger: "comment" });
    recordRunMetrics({
      agent: "command",
      outcome: "changes",
      durationMs: 2000,
      turns: 4,
      inputTokens: 1200,
      outputTokens: 300,
      costUsd: 0.12,
    });
    const res = await fetch(`${web.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const families = new Map(parsePrometheusTextFormat(await res.text()).map((f) => [f.name, f]));
    const value = (name: string, labels: Record<string, string>) =>
      Number(families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);
    expect(families.get("backlog_bot_deliveries_total")?.type).toBe("COUNTER");
    expect(value("backlog_bot_deliveries_total", { event: "issue_comment", outcome: "processed" })).toBe(1);
    expect(value("backlog_bot_tasks_created_total", { trigger: "comment" })).toBe(1);
    expect(value("backlog_bot_runs_total", { agent: "command", outcome: "changes" })).toBe(1);
    expect(value("backlog_bot_run_tokens_total", { agent: "command", direction: "input" })).toBe(1200);
    expect(value("backlog_bot_run_tokens_total", { agent: "command", direction: "output" })).toBe(300);
    expect(value("backlog_bot_run_cost_dollars_total", { agent: "command" })).toBeCloseTo(0.12);
    expect(value("backlog_bot_tasks", { state: "failed" })).toBe(1);
    expect(value("backlog_bot_tasks", { state: "running" })).toBe(0);
    expect(value("backlog_bot_job_queue_depth", { queue: "all" })).toBe(3);
    expect(value("backlog_bot_job_oldest_age_seconds", { queue: "all" })).toBe(4.5);
    const duration = families.get("backlog_bot_run_duration_seconds");
    expect(duration?.type).toBe("HISTOGRAM");
    // The parser keeps a histogram's buckets (not its sum/count lines): 2 s falls in le=2.5, not le=1.
    const buckets = duration?.metrics[0]?.buckets ?? {};
    expect([buckets["1"], buckets["2.5"], buckets["+Inf"]].map(Number)).toEqual([0, 1, 1]);
  });

  it("needs the API token unless public, and is not served at all when on its own port", async () => {
    const web = await startWeb();
    open.push(web);
    expect((await fetch(`${web.url}/metrics`)).status).toBe(401);
    const off = await startWeb({ metrics: "off" });
    open.push(off);
    expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
  });
});

describe("/metrics on its own port", () => {
  it("answers GET /metrics only", async () => {
    const { startMetricsServer } = await import("../../../src/web/metrics-server.js");
    const { createLogger } = await import("../../../src/util/logger.js");
    const server = await startMetricsServer({ port: 0, host: "127.0.0.1", log: createLogger({ level: "silent" }) });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("# TYPE backlog_bot_runs_total counter");
      expect((await fetch(`http://127.0.0.1:${server.port}/api/v1/tasks`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
