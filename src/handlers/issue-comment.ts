import type { Octokit } from "@octokit/rest";
import { loadRepositoryConfig } from "../config/load.js";
import type { RepoConfig } from "../config/schema.js";
import { cancelTask, requestTask, retryIssueTask } from "../executor/requests.js";
import { commentOnce } from "../github/comments.js";
import { recordAudit } from "../store/audit.js";
import { dismissFindings } from "../store/dashboard.js";
import { upsertRepository } from "../store/repositories.js";
import { findOpenTask, findTaskByPullRequest, latestTaskOfIssue } from "../store/tasks.js";
import { type AgentCommand, parseAgentCommand } from "./commands.js";
import { checkWritePermission } from "./guards.js";
import type { Handler, HandlerDeps } from "./types.js";

/**
 * `issue_comment.created`: a maintainer's `/agent` command. Every command gets exactly one answer
 * (marked with the delivery id, so a retried job does not answer twice), refusals included. Only
 * `created` is handled: editing an old comment into a command triggers nothing.
 */
export const onIssueCommentCreated: Handler<"issue_comment.created"> = async (context, deps, log) => {
  const { comment, issue, repository } = context.payload;
  const command = parseAgentCommand(comment.body);
  if (!command) return;
  const octokit = context.octokit as unknown as Octokit;
  const { owner, repo } = context.repo();
  const reply = (body: string) =>
    commentOnce(octokit, { owner, repo, issueNumber: issue.number, body, marker: `delivery:${context.id}`, since: comment.created_at });
  const login = comment.user?.login ?? "unknown";

  const stored = await upsertRepository(deps.db, {
    fullName: repository.full_name,
    githubId: repository.id,
    installationId: context.payload.installation?.id ?? null,
    defaultBranch: repository.default_branch,
    cloneUrl: repository.clone_url,
  });
  const config = await loadRepositoryConfig(context, deps.db, stored, log);
  const permission = await checkWritePermission(octokit, { owner, repo }, login, comment.user?.type ?? "User", config.allowedBots);
  await recordAudit(deps.db, {
    actor: login,
    action: `command.${command.name}`,
    repository: repository.full_name,
    target: `${issue.pull_request ? "pr" : "issue"}#${issue.number}`,
    outcome: permission.allowed ? "accepted" : "refused",
    detail: { role: permission.role, ...(!permission.allowed && { reason: permission.reason }), deliveryId: context.id },
  }).catch((err: unknown) => log.warn({ err }, "could not write an audit row"));
  if (!permission.allowed) {
    log.info({ login, role: permission.role, command: command.name }, "agent command refused");
    await reply(
      `Sorry @${login}, only people with write, maintain or admin permission on ${repository.full_name} can direct backlog-bot (${permission.reason}).`,
    );
    return;
  }
  if (command.name === "help") return void (await reply(helpText(deps, config)));
  if (command.name === "unknown") {
    await reply(`Unknown command \`/agent ${codeSpanText(command.word)}\`.\n\n${helpText(deps, config)}`);
    return;
  }
  if (issue.pull_request) {
    // On backlog-bot's own pull request, fix and retry are a follow-up on the same branch (issue 10).
    const task = deps.followUps ? await findTaskByPullRequest(deps.db, stored.id, issue.number) : undefined;
    if (!task || !deps.followUps) {
      await reply("`/agent` commands work on issues and on backlog-bot's own pull requests; on other pull requests they do nothing.");
      return;
    }
    if (command.name === "cancel") {
      const result = await cancelTask(deps.requests, task, login);
      await reply(result.message);
      return;
    }
    if (command.name === "dismiss") {
      // Dismissing takes an issue out of the backlog; a pull request has no findings to dismiss.
      await reply("`/agent dismiss` works on issues and on the dashboard's rows; on a pull request it does nothing.");
      return;
    }
    // fix and retry: a follow-up round on this pull request's branch.
    const instructions = command.name === "fix" ? command.instructions || null : null;
    const actor = { login, isBot: comment.user?.type === "Bot", canWrite: true };
    await deps.followUps.enqueue(
      { taskId: task.id, trigger: { type: "comment", commentId: comment.id }, actor, instructions },
      `comment:${comment.id}`,
    );
    await reply(`Queued a follow-up of task #${task.id}: a new commit on top of this pull request's branch, after what others pushed.`);
    return;
  }
  const requests = deps.requests;
  if (command.name === "cancel") {
    const task =
      (await findOpenTask(deps.db, stored.id, { issueNumber: issue.number })) ??
      (await latestTaskOfIssue(deps.db, stored.id, issue.number));
    if (!task) return void (await reply("There is no backlog-bot task on this issue to cancel."));
    const result = await cancelTask(requests, task, login);
    // A queued task's cancel is said by the task's own reply; a running one's when its worker stops it.
    if (!result.ok || task.state === "running") await reply(result.message);
    return;
  }
  if (command.name === "dismiss") {
    // The issue leaves the backlog for good: its findings are dismissed, and autopilot never picks them.
    const rows = await deps.db
      .selectFrom("findings")
      .select("fingerprint")
      .where("repository_id", "=", stored.id)
      .where("issue_number", "=", issue.number)
      .execute();
    const dismissed = await dismissFindings(
      deps.db,
      stored.id,
      rows.map((r) => r.fingerprint),
      login,
    );
    await reply(
      dismissed > 0
        ? "Dismissed: this issue is out of backlog-bot's backlog and autopilot will not pick it. `/agent fix` here still asks for work on it."
        : "This issue is not in backlog-bot's backlog (or was dismissed already); nothing changed.",
    );
    return;
  }
  if (issue.state !== "open") return void (await reply("This issue is closed; reopen it to ask for agent work."));
  if (command.name === "retry") {
    const result = await retryIssueTask(requests, stored, config, issue.number, login, comment.created_at);
    await reply(result.message);
    return;
  }
  await startFix(command, { deps, config, login, reply, stored, issue, commentId: comment.id, at: comment.created_at });
  if (context.payload.comment.id) {
    await context.octokit.rest.reactions
      .createForIssueComment(context.repo({ comment_id: comment.id, content: "rocket" }))
      .catch((err: unknown) => {
        log.warn({ err }, "could not react to the command");
      });
  }
};

async function startFix(
  command: Extract<AgentCommand, { instructions: string }>,
  c: {
    deps: HandlerDeps;
    config: RepoConfig;
    login: string;
    reply: (body: string) => Promise<boolean>;
    stored: Parameters<typeof requestTask>[1]["repository"];
    issue: { number: number; title: string };
    commentId: number;
    at?: string;
  },
): Promise<void> {
  const result = await requestTask(c.deps.requests, {
    repository: c.stored,
    config: c.config,
    issueNumber: c.issue.number,
    title: c.issue.title,
    instructions: command.instructions || null,
    ...(command.agent !== undefined && { agent: command.agent }),
    ...(command.workflow !== undefined && { workflow: command.workflow }),
    requestedBy: c.login,
    trigger: "comment",
    ...(c.at !== undefined && { requestedAt: c.at }),
    triggerCommentId: c.commentId,
  });
  if (result.kind === "refused") return void (await c.reply(result.refusal.message));
  const task = result.task;
  // The same comment's job run again (a crash after the task was created): answer as the first run would have.
  const ours = result.kind === "exists" && task.trigger_comment_id === c.commentId && task.requested_by === c.login;
  if (result.kind === "exists" && !ours) {
    const where = task.pr_url ? `: its draft pull request is ${task.pr_url}` : "";
    await c.reply(`Task #${task.id} for this issue is already ${task.state.replace("_", " ")}${where}. No second one was started.`);
    return;
  }
  await c.reply(`Queued task #${task.id}: \`${task.agent}\` will work on this issue and open a draft pull request if it changes anything.`);
}

/** `/agent help`: the commands, the agents enabled here and the limits in force. */
export function helpText(deps: HandlerDeps, config: RepoConfig): string {
  const limit = (n: number) => (n === 0 ? "no limit" : String(n));
  return [
    "**backlog-bot commands** (people with write access, on an issue):",
    "",
    "- `/agent fix [--agent NAME] [--workflow NAME] [instructions]`: an agent works on this issue and opens a draft pull request",
    "- `/agent retry`: a new attempt of this issue's last failed, cancelled or no-change task",
    "- `/agent cancel`: stops this issue's queued or running task and everything its agent started",
    "- `/agent dismiss`: takes this issue out of the ranked backlog for good (autopilot never picks it)",
    "- `/agent help`: this text",
    "",
    `Agents enabled here: ${deps.agents.enabled.map((a) => `\`${a}\``).join(", ") || "none"}${config.agent ? ` (default here: \`${config.agent}\`)` : ""}.`,
    `Limits: ${limit(config.prConcurrentLimit)} open tasks at once (\`prConcurrentLimit\`), ${limit(config.prHourlyLimit)} new tasks an hour (\`prHourlyLimit\`), ${limit(config.dailyRunLimit)} agent runs a day (\`dailyRunLimit\`).`,
  ].join("\n");
}

/**
 * A word someone wrote, for inside a one-backtick code span: a backtick would end the span, and what
 * followed would be Markdown again (`@team` pings, `#12` links), so it becomes ˋ (U+02CB); at most
 * 40 characters.
 */
function codeSpanText(word: string): string {
  const cut = word.length > 40 ? `${word.slice(0, 39)}…` : word;
  return cut.replace(/`/g, "ˋ");
}
