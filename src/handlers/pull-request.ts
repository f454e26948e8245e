import { requestDashboardSync } from "../scheduler/dashboard.js";
import { getRepository } from "../store/repositories.js";
import { findOpenTask, findTaskByPullRequest, findUnrecordedTaskOfBranch, transition } from "../store/tasks.js";
import type { Handler } from "./types.js";

/**
 * `pull_request.closed`: one of our draft PRs was merged or closed; its task ends accordingly, and the
 * dashboard, which lists the task with its open pull request, is asked to re-render (debounced).
 *
 * The task is found by the PR's number, or, when no task has recorded that number yet, by the
 * PR's head branch (`findUnrecordedTaskOfBranch`): the worker opens the PR and records its number
 * only as the run ends (after publishing the check run), and a close handled in between found no
 * task, was dropped, and the worker then left the task `pr_open` for good, counting toward
 * `prConcurrentLimit` with nothing to ever end it. The branch is recorded when it is pushed, before
 * the PR exists, so matching by it closes that window without asking GitHub anything; the task
 * (then `running`) ends here with the PR recorded, and the worker's own end is refused (`transition`
 * allows `running -> merged | closed` to github only). Only a PR whose head is in this repository
 * matches by branch: a fork's PR with the same branch name is not ours. The number is read again
 * after the branch, since the worker may record it between the two reads; the close then moves
 * `pr_open` to `closed` as it always did. Asking GitHub for the PR's state after recording it would
 * also work, at one more API call on every task and a second place that ends tasks on a close.
 */
export const onPullRequestClosed: Handler<"pull_request.closed"> = async (context, deps, log) => {
  const { pull_request: pr, repository } = context.payload;
  const repo = await getRepository(deps.db, repository.full_name);
  if (!repo) return;
  const byNumber = () => findTaskByPullRequest(deps.db, repo.id, pr.number);
  const sameRepository = pr.head.repo?.id === pr.base.repo.id;
  // The number again last: the worker may have recorded it between the first two reads.
  const task =
    (await byNumber()) ??
    (sameRepository ? await findUnrecordedTaskOfBranch(deps.db, repo.id, pr.head.ref) : undefined) ??
    (await byNumber());
  if (!task) return;
  const patch = task.pr_number === null ? { pr_number: pr.number, pr_url: pr.html_url } : {};
  const moved = await transition(deps.db, task.id, pr.merged ? "merged" : "closed", { actor: "github", log }, patch);
  // The dashboard lists the task with its open pull request: re-render it (debounced), as every other end does.
  if (moved) await requestDashboardSync(deps.requests.jobs, repo);
};

/**
 * `pull_request.reopened`: a maintainer reopened a draft PR of ours that was closed unmerged; its
 * task is open again (`pr_open`), so reviews and CI are followed up, it holds its issue and counts
 * toward `prConcurrentLimit` (the dashboard re-renders). Left closed when the issue has another open
 * task meanwhile (one open task per issue or finding).
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
  const moved = await transition(deps.db, task.id, "pr_open", { actor: "github", log });
  if (moved) await requestDashboardSync(deps.requests.jobs, repo);
};
