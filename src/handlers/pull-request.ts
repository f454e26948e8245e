import { getRepository } from "../store/repositories.js";
import { findTaskByPullRequest, transition } from "../store/tasks.js";
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
