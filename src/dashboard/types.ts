import type { BacklogItem, Ranked } from "../prioritizer/index.js";
import type { TaskState, TaskTrigger } from "../store/schema.js";

/** A task as the dashboard shows it (from the `tasks` table plus its latest run). */
export interface DashboardTask {
  id: number;
  findingId: number | null;
  issueNumber: number | null;
  title: string;
  state: TaskState;
  agent: string | null;
  prNumber: number | null;
  prUrl: string | null;
  trigger: TaskTrigger;
  requestedBy: string;
  /** Why it failed or was cancelled; only its first line is shown. */
  error: string | null;
  /** ISO times: created (queued since) and last state change (running since, ended at). */
  createdAt: string;
  updatedAt: string;
  /** One line from the latest run's verification (e.g. `tests: 212 passed, 0 failed`), once known. */
  verification?: string | null;
  /** Why autopilot picked it (`rank 1, score 52 ≥ minScore 30`), for autopilot tasks. */
  note?: string | null;
}

/** What limits hold back, so waiting work is never hidden. Absent fields are not shown. */
export interface DashboardLimits {
  /** Open draft PRs of the app here, and `prConcurrentLimit`. */
  openPullRequests?: number;
  prConcurrentLimit?: number;
  /** PRs opened in the last hour, and `prHourlyLimit`. */
  pullRequestsLastHour?: number;
  prHourlyLimit?: number;
  /** Agent runs here in the last 24 hours, and `dailyRunLimit` (0: no limit). */
  runsToday?: number;
  maxRunsPerDay?: number;
  /** The operator's daily cost budget across repositories: USD used today, and the cap. */
  costTodayUsd?: number;
  maxCostUsdPerDay?: number;
  /** Queued tasks waiting because of a limit above. */
  heldBack?: number;
}

/** Everything one render needs; the render is a pure function of it. */
export interface DashboardState {
  /** `owner/name`. */
  repo: string;
  /** Commit (or branch) that code links point at: the scanned commit keeps line numbers right. */
  ref: string;
  /** The ranked backlog, best first (`rankBacklog`); rows with an active task are left out by the render. */
  backlog: readonly Ranked<BacklogItem>[];
  /** Rows shown in "Ranked backlog" (config `dashboardLimit`, default 20). */
  limit: number;
  /** The repository's tasks, any state; the render sorts and sections them. */
  tasks: readonly DashboardTask[];
  limits?: DashboardLimits;
  /** The last config error, shown first so a maintainer sees why their change did not apply. */
  configError?: string | null;
  /** Autopilot line: `undefined` when off. */
  autopilot?: { enabled: boolean; schedule?: string; maxTasksPerDay: number; startedToday: number };
  /** ISO time of the last completed scan. */
  lastScanAt?: string | null;
  /** For elapsed times; rounded in the output so a re-render a minute later is usually identical. */
  now: Date;
}

/** A maintainer's request read from ticked checkboxes. */
export type DashboardAction =
  | { kind: "start"; findingId: number }
  | { kind: "retry"; taskId: number }
  | { kind: "dismiss"; findingId: number }
  | { kind: "rescan" };
