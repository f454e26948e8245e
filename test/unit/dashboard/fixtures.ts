import type { DashboardState, DashboardTask } from "../../../src/dashboard/index.js";
import { rankBacklog } from "../../../src/prioritizer/index.js";
import type { FindingRow } from "../../../src/store/schema.js";

export const NOW = new Date("2026-12-03T12:00:00Z");

/** A stored finding row with defaults. */
export function row(id: number, over: Partial<FindingRow> = {}): FindingRow {
  return {
    id,
    repository_id: 1,
    fingerprint: `fp${id}`,
    kind: "todo",
    title: `item ${id}`,
    body: null,
    path: `src/file${id}.ts`,
    line: id,
    url: null,
    issue_number: null,
    signals: JSON.stringify({ marker: "TODO", authoredAt: "2026-01-01T00:00:00Z" }),
    first_seen_at: "2026-06-01T00:00:00Z",
    last_seen_at: "2026-12-01T00:00:00Z",
    resolved_at: null,
    dismissed_at: null,
    last_task_outcome: null,
    last_task_hash: null,
    dismissed_by: null,
    ...over,
  };
}

export function task(id: number, over: Partial<DashboardTask> = {}): DashboardTask {
  return {
    id,
    findingId: null,
    issueNumber: null,
    title: `task ${id}`,
    state: "queued",
    agent: "claude-code",
    prNumber: null,
    prUrl: null,
    trigger: "dashboard",
    requestedBy: "maintainer",
    error: null,
    createdAt: "2026-12-03T11:20:00Z",
    updatedAt: "2026-12-03T11:40:00Z",
    ...over,
  };
}

/** A state with one of everything, for the snapshot. */
export function fullState(): DashboardState {
  const rows = [
    row(1, { title: "handle EINTR", signals: JSON.stringify({ marker: "FIXME", authoredAt: "2024-01-01T00:00:00Z" }) }),
    ...Array.from({ length: 3 }, (_, i) => row(10 + i, { title: "add test", path: `test/t${i}.ts`, line: 3 })),
    row(2, {
      kind: "issue",
      title: "Crash on @everyone <b>#5</b>",
      path: null,
      line: null,
      issue_number: 42,
      signals: '{"labels":["bug"]}',
    }),
    row(3, {
      kind: "failing_check",
      title: "ci / test failed on main",
      path: null,
      line: null,
      url: "https://github.com/o/r/runs/9",
      signals: "{}",
    }),
    row(4, { title: "in progress already" }),
    row(5, { title: "vendored", path: "deps/lib/a.c", line: 7 }),
  ];
  return {
    repo: "o/r",
    ref: "abc123",
    backlog: rankBacklog(rows, NOW),
    limit: 20,
    tasks: [
      task(1, { findingId: 4, state: "running", title: "in progress already" }),
      task(2, { state: "queued", trigger: "autopilot", note: "rank 1, score 52 ≥ minScore 30", agent: null }),
      task(3, { state: "pr_open", prNumber: 77, title: "Fix the crash", verification: "tests: 212 passed, 0 failed (were 1 failing)" }),
      task(4, { state: "failed", findingId: 1, error: "agent timed out after 1800 s\nstack…" }),
      task(5, { state: "cancelled", title: "cancelled one" }),
      task(6, { state: "merged", prNumber: 70, title: "Merged fix", updatedAt: "2026-12-01T10:00:00Z" }),
      task(7, { state: "closed", prNumber: 71, title: "Closed fix", updatedAt: "2026-12-02T10:00:00Z" }),
    ],
    limits: {
      openPullRequests: 3,
      prConcurrentLimit: 3,
      pullRequestsLastHour: 1,
      prHourlyLimit: 2,
      runsToday: 4,
      maxRunsPerDay: 20,
      heldBack: 1,
    },
    configError: "schedule: must be a five-field cron expression",
    autopilot: { enabled: true, schedule: "0 3 * * *", maxTasksPerDay: 2, startedToday: 1 },
    lastScanAt: "2026-12-03T06:00:00Z",
    now: NOW,
  };
}
