import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Every Prometheus metric of the process, defined once (issue 12). Names follow
 * https://prometheus.io/docs/practices/naming/: `backlog_bot_` prefix, `_total` on counters,
 * base units (`_seconds`, `_dollars`), labels of bounded cardinality only (never a repository,
 * task id or user). Other modules import the metric they record (`metrics.runs.inc(...)`) or one
 * of the helpers below; `/metrics` serves `registry`.
 */
export const registry = new Registry();

collectDefaultMetrics({ register: registry, prefix: "backlog_bot_" });

/** Buckets (s) for work taking seconds to an hour: deliveries, scans, agent runs. */
const SLOW_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** Sources of gauges read from the store at scrape time; set by the wiring (see `setMetricSources`). */
export interface MetricSources {
  /** Pending jobs per queue and the age (s) of the oldest runnable one. */
  jobQueue?: () => Promise<Array<{ queue: string; depth: number; oldestAgeSeconds: number }>>;
  /** Number of tasks in each state (states absent count 0). */
  tasksByState?: () => Promise<Record<string, number>>;
}
let sources: MetricSources = {};

/**
 * Sets the callbacks the queue and task gauges read at each scrape. A failing source leaves the
 * gauge at its last value rather than failing the scrape.
 */
export function setMetricSources(next: MetricSources): void {
  sources = { ...sources, ...next };
}

const TASK_STATES = ["queued", "running", "pr_open", "merged", "closed", "no_changes", "failed", "cancelled"];

export const metrics = {
  /** Webhook deliveries by `event` and `outcome` (`processed`, `failed`, `duplicate`, `ignored`). */
  deliveries: new Counter({
    name: "backlog_bot_deliveries_total",
    help: "Webhook deliveries received, by event and outcome.",
    labelNames: ["event", "outcome"] as const,
    registers: [registry],
  }),
  /** Time (s) from receipt of a delivery to its job being handled. */
  deliveryHandling: new Histogram({
    name: "backlog_bot_delivery_handling_seconds",
    help: "Time from a delivery's receipt to its job being handled.",
    labelNames: ["event"] as const,
    buckets: SLOW_BUCKETS,
    registers: [registry],
  }),
  jobQueueDepth: new Gauge({
    name: "backlog_bot_job_queue_depth",
    help: "Jobs waiting to run, by queue.",
    labelNames: ["queue"] as const,
    registers: [registry],
    async collect() {
      const rows = await safely(sources.jobQueue);
      if (!rows) return;
      this.reset();
      for (const r of rows) this.set({ queue: r.queue }, r.depth);
    },
  }),
  jobOldestAge: new Gauge({
    name: "backlog_bot_job_oldest_age_seconds",
    help: "Age of the oldest runnable job, by queue (0 when empty).",
    labelNames: ["queue"] as const,
    registers: [registry],
    async collect() {
      const rows = await safely(sources.jobQueue);
      if (!rows) return;
      this.reset();
      for (const r of rows) this.set({ queue: r.queue }, r.oldestAgeSeconds);
    },
  }),
  tasksByState: new Gauge({
    name: "backlog_bot_tasks",
    help: "Tasks in the store, by state.",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      const counts = await safely(sources.tasksByState);
      if (!counts) return;
      for (const state of new Set([...TASK_STATES, ...Object.keys(counts)])) this.set({ state }, counts[state] ?? 0);
    },
  }),
  /** Tasks created, by how they were asked for (`comment`, `dashboard`, `autopilot`, `cli`, `api`, `web`). */
  tasksCreated: new Counter({
    name: "backlog_bot_tasks_created_total",
    help: "Tasks created, by trigger.",
    labelNames: ["trigger"] as const,
    registers: [registry],
  }),
  /** Task state changes, by the state entered. */
  taskTransitions: new Counter({
    name: "backlog_bot_task_transitions_total",
    help: "Task state transitions, by the state entered.",
    labelNames: ["to"] as const,
    registers: [registry],
  }),
  /** Agent runs by `agent` and `outcome` (`changes`, `no_changes`, `failed`, `timeout`). */
  runs: new Counter({
    name: "backlog_bot_runs_total",
    help: "Agent runs finished, by agent and outcome.",
    labelNames: ["agent", "outcome"] as const,
    registers: [registry],
  }),
  runDuration: new Histogram({
    name: "backlog_bot_run_duration_seconds",
    help: "Wall time of an agent run.",
    labelNames: ["agent"] as const,
    buckets: SLOW_BUCKETS,
    registers: [registry],
  }),
  runTurns: new Counter({
    name: "backlog_bot_run_turns_total",
    help: "Agent conversation turns, by agent.",
    labelNames: ["agent"] as const,
    registers: [registry],
  }),
  /** Model tokens by agent and `direction` (`input`, `output`). */
  runTokens: new Counter({
    name: "backlog_bot_run_tokens_total",
    help: "Model tokens used by agent runs, by agent and direction.",
    labelNames: ["agent", "direction"] as const,
    registers: [registry],
  }),
  runCost: new Counter({
    name: "backlog_bot_run_cost_dollars_total",
    help: "Model cost of agent runs in US dollars, as reported by the agent CLI.",
    labelNames: ["agent"] as const,
    registers: [registry],
  }),
  /** Verification results by `phase` (`before`, `after`) and `outcome` (`passed`, `failed`, `skipped`, `masking`). */
  verifications: new Counter({
    name: "backlog_bot_verifications_total",
    help: "Verification runs of a repository's own checks, by phase and outcome.",
    labelNames: ["phase", "outcome"] as const,
    registers: [registry],
  }),
  /** Follow-up rounds by `reason` (`review`, `ci`) and `outcome`. */
  followUps: new Counter({
    name: "backlog_bot_follow_up_rounds_total",
    help: "Follow-up rounds on open pull requests, by reason and outcome.",
    labelNames: ["reason", "outcome"] as const,
    registers: [registry],
  }),
  /** Scans by scanner `kind` (`todo`, `stale_issue`, `failing_check`, `issue`) and `outcome` (`ok`, `failed`). */
  scans: new Counter({
    name: "backlog_bot_scans_total",
    help: "Scans run, by scanner kind and outcome.",
    labelNames: ["kind", "outcome"] as const,
    registers: [registry],
  }),
  scanDuration: new Histogram({
    name: "backlog_bot_scan_duration_seconds",
    help: "Wall time of one scanner over one repository.",
    labelNames: ["kind"] as const,
    buckets: SLOW_BUCKETS,
    registers: [registry],
  }),
  /**
   * GitHub API requests by `route` class (e.g. `issues`, `pulls`, `checks`, `git`, `contents`,
   * `app`, `graphql`; see `githubRouteClass`) and `status` (`2xx`, `304`, `4xx`, `5xx`, `error`).
   * The 304 share is `status="304"` over all.
   */
  githubRequests: new Counter({
    name: "backlog_bot_github_requests_total",
    help: "GitHub API requests, by route class and status class (304 kept apart).",
    labelNames: ["route", "status"] as const,
    registers: [registry],
  }),
  /** `x-ratelimit-remaining` of the latest response, by `resource` (`core`, `graphql`, `search`). */
  githubRateLimitRemaining: new Gauge({
    name: "backlog_bot_github_rate_limit_remaining",
    help: "Requests left in GitHub's current rate-limit window, from the latest response.",
    labelNames: ["resource"] as const,
    registers: [registry],
  }),
  /** Operations the sandbox refused, by `kind` (`network`, `filesystem`, `process`). */
  sandboxDenials: new Counter({
    name: "backlog_bot_sandbox_denials_total",
    help: "Operations refused by the sandbox, by kind.",
    labelNames: ["kind"] as const,
    registers: [registry],
  }),
};

async function safely<T>(source: (() => Promise<T>) | undefined): Promise<T | undefined> {
  if (!source) return undefined;
  try {
    return await source();
  } catch {
    return undefined;
  }
}

/** What one finished agent run reports; durations in ms, cost in US dollars. */
export interface RunMetrics {
  agent: string;
  outcome: string;
  durationMs: number;
  turns?: number | null;
  inputTokens?: number | null;
  outputTokens?: number | null;
  costUsd?: number | null;
}

/** Records one finished agent run in the run counters and histogram. */
export function recordRunMetrics(run: RunMetrics): void {
  const agent = run.agent;
  metrics.runs.inc({ agent, outcome: run.outcome });
  metrics.runDuration.observe({ agent }, run.durationMs / 1000);
  if (run.turns) metrics.runTurns.inc({ agent }, run.turns);
  if (run.inputTokens) metrics.runTokens.inc({ agent, direction: "input" }, run.inputTokens);
  if (run.outputTokens) metrics.runTokens.inc({ agent, direction: "output" }, run.outputTokens);
  if (run.costUsd) metrics.runCost.inc({ agent }, run.costUsd);
}

/** Prometheus text exposition of every metric, and its content type. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
