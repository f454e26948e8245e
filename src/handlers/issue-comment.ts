import { loadRepositoryConfig } from "../config/load.js";
import { resolveAgent } from "../executor/agents/registry.js";
import { upsertRepository } from "../store/repositories.js";
import { countOpenPullRequests, createTask } from "../store/tasks.js";
import { parseAgentCommand } from "./commands.js";
import { checkWritePermission } from "./guards.js";
import type { Handler } from "./types.js";

/**
 * `issue_comment.created`: a maintainer's `/agent fix` on an open issue becomes a queued task.
 * Only `created` is handled: editing an old comment into a command triggers nothing.
 */
export const onIssueCommentCreated: Handler<"issue_comment.created"> = async (context, deps, log) => {
  const { comment, issue, repository } = context.payload;
  const command = parseAgentCommand(comment.body);
  if (!command) return;
  const reply = (body: string) => context.octokit.rest.issues.createComment(context.issue({ body }));
  const login = comment.user?.login ?? "unknown";

  if (issue.pull_request) {
    await reply("`/agent` commands work on issues, not on pull requests.");
    return;
  }
  const permission = await checkWritePermission(context, login, comment.user?.type ?? "User");
  if (!permission.allowed) {
    log.info({ login, role: permission.role }, "agent command refused");
    await reply(
      `Sorry @${login}, only people with write, maintain or admin permission on ${repository.full_name} can start agent work (${permission.reason}).`,
    );
    return;
  }
  if (command.name === "unknown") {
    await reply(`Unknown command \`/agent ${command.word}\`. Try \`/agent fix [--agent NAME] [instructions]\`.`);
    return;
  }
  if (command.name === "cancel") {
    await reply("`/agent cancel` is not supported yet: close the draft pull request to stop its task.");
    return;
  }
  if (issue.state !== "open") {
    await reply("This issue is closed; reopen it to ask for agent work.");
    return;
  }

  const repo = await upsertRepository(deps.db, {
    fullName: repository.full_name,
    installationId: context.payload.installation?.id ?? null,
    defaultBranch: repository.default_branch,
    cloneUrl: repository.clone_url,
  });
  const config = await loadRepositoryConfig(context, deps.db, repo, log);
  const choice = resolveAgent(deps.agents, command.agent, config.agent);
  if ("error" in choice) {
    await reply(choice.error);
    return;
  }
  const openPrs = await countOpenPullRequests(deps.db, repo.id);
  if (openPrs >= config.prConcurrentLimit) {
    await reply(
      `${openPrs} pull requests from backlog-bot are already open here (\`prConcurrentLimit\`: ${config.prConcurrentLimit}). Merge or close one, then ask again.`,
    );
    return;
  }
  const { task, created } = await createTask(deps.db, {
    repositoryId: repo.id,
    issueNumber: issue.number,
    title: issue.title,
    instructions: command.instructions || null,
    agent: choice.agents[0]?.name ?? null,
    requestedBy: login,
    trigger: "comment",
  });
  if (!created) {
    await reply(`Task #${task.id} for this issue is already ${task.state}; no second one was started.`);
    return;
  }
  log.info({ taskId: task.id, agent: task.agent, issue: issue.number }, "task queued");
  await context.octokit.rest.reactions.createForIssueComment(context.repo({ comment_id: comment.id, content: "rocket" }));
  await reply(`Queued task #${task.id}: \`${task.agent}\` will work on this issue and open a draft pull request if it changes anything.`);
  deps.enqueue();
};
