import { describe, expect, it } from "vitest";
import { githubMetricsPlugin, githubRouteClass, recordGithubRequest } from "../../../src/util/github-metrics.js";
import { metrics, recordRunMetrics, registry, setMetricSources } from "../../../src/util/metrics.js";

describe("metrics registry", () => {
  it("names every metric with the backlog_bot_ prefix and Prometheus suffixes", async () => {
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    for (const name of names) expect(name).toMatch(/^backlog_bot_/);
    for (const m of await registry.getMetricsAsJSON()) if (String(m.type) === "counter") expect(m.name).toMatch(/_total$/);
    expect(names).toEqual(
      expect.arrayContaining([
        "backlog_bot_deliveries_total",
        "backlog_bot_delivery_handling_seconds",
        "backlog_bot_job_queue_depth",
        "backlog_bot_job_oldest_age_seconds",
        "backlog_bot_tasks",
        "backlog_bot_runs_total",
        "backlog_bot_run_duration_seconds",
        "backlog_bot_run_turns_total",
        "backlog_bot_run_tokens_total",
        "backlog_bot_run_cost_dollars_total",
        "backlog_bot_verifications_total",
        "backlog_bot_follow_up_rounds_total",
        "backlog_bot_scans_total",
        "backlog_bot_scan_duration_seconds",
        "backlog_bot_github_requests_total",
        "backlog_bot_github_rate_limit_remaining",
        "backlog_bot_sandbox_denials_total",
      ]),
    );
  });

  it("reads queue and task gauges from their sources at scrape time, and survives a failing source", async () => {
    setMetricSources({
      jobQueue: async () => [{ queue: "run-task", depth: 4, oldestAgeSeconds: 12 }],
      tasksByState: async () => ({ running: 2 }),
    });
    let text = await registry.metrics();
    expect(text).toContain('backlog_bot_job_queue_depth{queue="run-task"} 4');
    expect(text).toContain('backlog_bot_job_oldest_age_seconds{queue="run-task"} 12');
    expect(text).toContain('backlog_bot_tasks{state="running"} 2');
    expect(text).toContain('backlog_bot_tasks{state="merged"} 0');
    setMetricSources({
      tasksByState: async () => {
        throw new Error("store gone");
      },
    });
    text = await registry.metrics();
    expect(text).toContain('backlog_bot_tasks{state="running"} 2');
  });

  it("records a run's counters and GitHub requests by route class with 304s apart", async () => {
    recordRunMetrics({
      agent: "claude-code",
      outcome: "changes",
      durationMs: 1500,
      turns: 3,
      inputTokens: 100,
      outputTokens: 20,
      costUsd: 0.5,
    });
    const tokens = await metrics.runTokens.get();
    expect(tokens.values.find((v) => v.labels.direction === "input" && v.labels.agent === "claude-code")?.value).toBe(100);
    expect(githubRouteClass("/repos/o/r/issues/1/comments?per_page=100")).toBe("issues");
    expect(githubRouteClass("/app/installations/1/access_tokens")).toBe("app");
    expect(githubRouteClass("/repos/o/r")).toBe("repo");
    recordGithubRequest("/repos/o/r/issues", 304, { "x-ratelimit-remaining": "4990", "x-ratelimit-resource": "core" });
    recordGithubRequest("/repos/o/r/issues", undefined);
    const text = await registry.metrics();
    expect(text).toContain('backlog_bot_github_requests_total{route="issues",status="304"} 1');
    expect(text).toContain('backlog_bot_github_requests_total{route="issues",status="error"} 1');
    expect(text).toContain('backlog_bot_github_rate_limit_remaining{resource="core"} 4990');
  });
});

describe("githubMetricsPlugin", () => {
  it("counts each request by route class and status, 304s and failures included, and keeps the rate limit", async () => {
    const { createServer } = await import("node:http");
    const { Octokit } = await import("@octokit/rest");
    const server = createServer((req, res) => {
      if (req.url?.startsWith("/repos/o/r/pulls")) res.writeHead(304, { etag: '"x"', "x-ratelimit-remaining": "4321" }).end();
      else if (req.url?.startsWith("/repos/o/r/labels"))
        res.writeHead(404, { "content-type": "application/json" }).end('{"message":"Not Found"}');
      else
        res
          .writeHead(200, { "content-type": "application/json", "x-ratelimit-remaining": "4322", "x-ratelimit-resource": "core" })
          .end("[]");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as import("node:net").AddressInfo;
    const octokit = new (Octokit.plugin(githubMetricsPlugin))({ baseUrl: `http://127.0.0.1:${port}`, request: { retries: 0 } });
    const countOf = async (route: string, status: string) =>
      (await metrics.githubRequests.get()).values.find((v) => v.labels.route === route && v.labels.status === status)?.value ?? 0;
    const [issues, pulls, labels] = [await countOf("issues", "2xx"), await countOf("pulls", "304"), await countOf("labels", "4xx")];
    await octokit.request("GET /repos/{owner}/{repo}/issues", { owner: "o", repo: "r" });
    await expect(
      octokit.request("GET /repos/{owner}/{repo}/pulls", { owner: "o", repo: "r", headers: { "if-none-match": '"x"' } }),
    ).rejects.toMatchObject({ status: 304 });
    await expect(octokit.request("GET /repos/{owner}/{repo}/labels", { owner: "o", repo: "r" })).rejects.toMatchObject({ status: 404 });
    server.close();
    expect(await countOf("issues", "2xx")).toBe(issues + 1);
    expect(await countOf("pulls", "304")).toBe(pulls + 1);
    expect(await countOf("labels", "4xx")).toBe(labels + 1);
    expect((await metrics.githubRateLimitRemaining.get()).values.find((v) => v.labels.resource === "core")?.value).toBe(4321);
  });
});
