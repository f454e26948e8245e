import { describe, expect, it } from "vitest";
import type { TaskState } from "../../../src/store/schema.js";
import { RETRYABLE_STATES, TASK_MOVES } from "../../../src/store/task-lifecycle.js";
import { taskPage } from "../../../src/web/pages/task.js";
import type { TaskWithRepo } from "../../../src/web/queries.js";

const STATES: TaskState[] = ["queued", "running", "pr_open", "merged", "closed", "no_changes", "failed", "cancelled"];

function page(state: TaskState, canWrite = true, title = "fix it"): string {
  const at = "2026-12-03T12:00:00Z";
  const task = {
    id: 7,
    repository_id: 1,
    repository: "o/a",
    finding_id: 3,
    issue_number: null,
    title,
    instructions: null,
    state,
    agent: "command",
    branch: null,
    pr_number: null,
    pr_url: null,
    requested_by: "alice",
    trigger: "dashboard",
    attempts: 1,
    lease_owner: null,
    lease_expires_at: null,
    error: null,
    created_at: at,
    updated_at: at,
    requested_at: at,
    trigger_comment_id: null,
    pushed_sha: null,
    cancel_requested_by: null,
    ended_at: null,
    workflow: null,
  } as unknown as TaskWithRepo;
  return taskPage({ task, runs: [], canWrite, csrf: "t" }).toString();
}

describe("the task page's buttons", () => {
  it("offers Retry exactly where a person may move the task back to queued, and only to writers", () => {
    const movable = new Set(TASK_MOVES.filter((m) => m.to === "queued" && m.by.includes("person")).map((m) => m.from));
    expect(new Set(RETRYABLE_STATES)).toEqual(movable);
    for (const state of STATES) {
      expect(page(state).includes("/retry"), state).toBe(movable.has(state));
      expect(page(state, false).includes("/retry"), state).toBe(false);
    }
    expect(page("closed")).not.toContain("Retry");
  });
});

describe("the task page's text", () => {
  it("shows a title's words without bidi overrides or control characters, escaped", () => {
    const shown = page("queued", true, "fix \u202enigol\u202c <b>now</b>\u001b[31m");
    for (const c of ["\u202e", "\u202c", "\u001b", "<b>"]) expect(shown).not.toContain(c);
    expect(shown).toContain("fix nigol &lt;b&gt;now&lt;/b&gt;[31m");
  });
});
