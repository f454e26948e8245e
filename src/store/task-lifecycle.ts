import type { TaskState } from "./schema.js";

/**
 * Who causes a state change:
 * - `worker`: the process holding the task's lease (checked against `lease_owner`);
 * - `person`: a maintainer, through a command, a dashboard tick, a button or the API;
 * - `github`: a webhook saying what happened on GitHub (a PR merged or closed);
 * - `system`: recovery of tasks whose worker died.
 */
export type TaskActor = "worker" | "person" | "github" | "system";

/** One allowed move. */
export interface TaskMove {
  from: TaskState;
  to: TaskState;
  by: readonly TaskActor[];
}

/**
 * The task state machine of DESIGN.md ("Task lifecycle"): the only moves `transition()` makes.
 * `queued -> running -> pr_open -> merged | closed`, ends `no_changes`, `failed`, `cancelled`; a
 * follow-up round returns an open PR's task to `running`, then back to `pr_open`.
 */
export const TASK_MOVES: readonly TaskMove[] = [
  { from: "queued", to: "running", by: ["worker"] },
  { from: "queued", to: "cancelled", by: ["person"] },
  { from: "running", to: "pr_open", by: ["worker"] },
  { from: "running", to: "no_changes", by: ["worker"] },
  { from: "running", to: "failed", by: ["worker", "system"] },
  { from: "running", to: "cancelled", by: ["worker", "system"] },
  // Interrupted by shutdown (worker) or found with a dead worker (system): run again.
  { from: "running", to: "queued", by: ["worker", "system"] },
  // A follow-up round on the bot's open PR, and the PR's end on GitHub.
  { from: "pr_open", to: "running", by: ["worker"] },
  { from: "pr_open", to: "merged", by: ["github"] },
  { from: "pr_open", to: "closed", by: ["github"] },
  // A maintainer reopened the closed pull request: it is open for review again.
  { from: "closed", to: "pr_open", by: ["github"] },
  { from: "running", to: "merged", by: ["github"] },
  { from: "running", to: "closed", by: ["github"] },
  // `/agent retry`: a new attempt of an ended task.
  { from: "failed", to: "queued", by: ["person"] },
  { from: "no_changes", to: "queued", by: ["person"] },
  { from: "cancelled", to: "queued", by: ["person"] },
];

/** States in which a task holds its issue or finding: a second request answers with this task. */
export const OPEN_STATES: readonly TaskState[] = ["queued", "running", "pr_open"];
/** States a task ends in (a retry may start it again). */
export const FINAL_STATES: readonly TaskState[] = ["merged", "closed", "no_changes", "failed", "cancelled"];

/** States a person may retry a task from (`/agent retry`, the dashboard, the web page): its moves to `queued` above. */
export const RETRYABLE_STATES: readonly TaskState[] = allowedFrom("queued", "person");

/** The states `to` may be reached from by `actor`. */
export function allowedFrom(to: TaskState, actor: TaskActor): TaskState[] {
  return TASK_MOVES.filter((m) => m.to === to && m.by.includes(actor)).map((m) => m.from);
}
