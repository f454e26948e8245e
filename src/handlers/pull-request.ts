import { getRepository } from "../store/repositories.js";
import { findOpenTask, findTaskByPullRequest, transition } from "../store/tasks.js";
import type { Handler } from "./types.js";

/** `pull_request.closed`: one of our draft PRs was merged or closed; its task ends accordingly. */
export const onPullRequestClosed: Handler<"pull_request.closed"> = async (context, deps, log) => {
  const { pull_request: pr, repository } = context.payload;
  const repo = await getRepository(deps.db, repository.full_name);
  if (!repo) return;
  const task = await findTaskByPullRequest(deps.db, repo.id, pr.number);
  if (!task) return;
  await transition(deps.db, task.id, pr.merged ? "merged" : "closed", { actor: "github", log });
};

/**
 * `pull_request.reopened`: a maintainer reopened a draft PR of ours that was closed unmerged; its
 * task is open again (`pr_open`), so reviews and CI are followed up, it holds its issue and counts
 * toward `prConcurrentLimit`. Left closed when the issue has another open task meanwhile (one open
 * task per issue or finding).
 */
export const onPullRequestReopened: Handler<"pull_request.reopened"> = async (context, deps, log) => {
  const { pull_request: pr, repository } = context.payload;
  const repo = await getRepository(deps.db, repository.full_name);
  if (!repo) return;
  const task = await findTaskByPullRequest(deps.db, repo.id, pr.number);
  if (!task || task.state !== "closed") return;
  const other = await findOpenTask(deps.db, repo.id, { issueNumber: task.issue_number, findingId: task.finding_id });
  if (other) {
    log.info({ taskId: task.id, openTask: other.id }, "pull request reopened, but its issue has another open task; its task stays closed");
    return;
  }
  await transition(deps.db, task.id, "pr_open", { actor: "github", log });
};
