import type { Octokit } from "@octokit/rest";
import { loadRepositoryConfig } from "../config/load.js";
import { upsertRepository } from "../store/repositories.js";
import { findTaskByPullRequest } from "../store/tasks.js";
import { checkWritePermission } from "./guards.js";
import type { Handler } from "./types.js";

/**
 * `pull_request_review.submitted` on a pull request backlog-bot opened: a review that requests
 * changes (or comments) by a person with write access — or a bot listed in `allowedBots` —
 * queues a follow-up (issue 10), deduped per review. A review that only comments must say
 * something of its own (see `asksSomething`): each reply in an inline thread is such a review. The follow-up job itself decides against
 * the PR's state and the bound (`followUps.max`); readers' and other bots' reviews do nothing.
 */
export const onPullRequestReviewSubmitted: Handler<"pull_request_review.submitted"> = async (context, deps, log) => {
  const { review, pull_request: pr, repository } = context.payload;
  const state = review.state.toLowerCase();
  if (state !== "changes_requested" && state !== "commented") return;
  if (!deps.followUps) return;
  const stored = await upsertRepository(deps.db, {
    fullName: repository.full_name,
    githubId: repository.id,
    installationId: context.payload.installation?.id ?? null,
    defaultBranch: repository.default_branch,
    cloneUrl: repository.clone_url,
  });
  const task = await findTaskByPullRequest(deps.db, stored.id, pr.number);
  if (!task) return; // not the bot's pull request
  const login = review.user?.login ?? "unknown";
  const config = await loadRepositoryConfig(context, deps.db, stored, log);
  const { owner, repo } = context.repo();
  const permission = await checkWritePermission(
    context.octokit as unknown as Octokit,
    { owner, repo },
    login,
    review.user?.type ?? "User",
    config.allowedBots,
  );
  if (!permission.allowed) {
    log.info({ login, role: permission.role }, "review ignored: no write access");
    return;
  }
  if (state === "commented" && !(await asksSomething(context.octokit as unknown as Octokit, { owner, repo }, pr.number, review))) {
    log.info({ login, reviewId: review.id }, "review ignored: a comment-only review with no text of its own (replies in a thread)");
    return;
  }
  await deps.followUps.enqueue(
    {
      taskId: task.id,
      trigger: { type: "review", reviewId: review.id, state },
      actor: { login, isBot: review.user?.type === "Bot", canWrite: true },
    },
    `review:${review.id}`,
  );
  log.info({ taskId: task.id, reviewId: review.id }, "follow-up queued for a review");
};

/**
 * Whether a COMMENTED review has actionable text: a body, or an inline comment that starts a
 * thread. GitHub records each reply in an inline review thread as a COMMENTED review with an
 * empty body whose one comment has `in_reply_to_id`; that conversation asks for no round. The
 * webhook carries the body but not the comments: for an empty body this reads them with the
 * one request the follow-up's prompt makes too (`GET .../reviews/{id}/comments`).
 * @throws the Octokit RequestError of a failed request (the delivery is retried).
 */
async function asksSomething(
  octokit: Octokit,
  repo: { owner: string; repo: string },
  pullNumber: number,
  review: { id: number; body?: string | null },
): Promise<boolean> {
  if ((review.body ?? "").trim() !== "") return true;
  const { data: comments } = await octokit.rest.pulls.listCommentsForReview({
    ...repo,
    pull_number: pullNumber,
    review_id: review.id,
    per_page: 100,
  });
  return comments.some((c) => !c.in_reply_to_id && c.body.trim() !== "");
}
