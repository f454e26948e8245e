import { lastValidConfig } from "../config/load.js";
import { cancelTask, type RequestDeps, requestTask, retryIssueTask, retryTask } from "../executor/requests.js";
import { dismissFinding, getFinding } from "../store/findings.js";
import { getRepositoryById } from "../store/repositories.js";
import { getTask } from "../store/tasks.js";
import { BacklogBotError } from "../util/errors.js";
import { groupMembers } from "./backlog-query.js";
import type { TaskRequests } from "./deps.js";

const refused = (message: string): BacklogBotError => new BacklogBotError("WEB_REQUEST_REFUSED", message);

/**
 * The web layer's writes over the request service (src/executor/requests.ts), so a button or an
 * API call meets the same rules and limits as `/agent fix`: an open task is answered with itself,
 * a limit or a wrong state is a refusal with the service's sentence (a 409 for the caller).
 * Permission is checked by the web layer before any of these run.
 */
export function createTaskRequests(deps: RequestDeps): TaskRequests {
  async function load(findingId: number) {
    const finding = await getFinding(deps.db, findingId);
    const repository = finding && (await getRepositoryById(deps.db, finding.repository_id));
    if (!finding || !repository) throw refused(`Finding ${findingId} no longer exists.`);
    return { finding, repository };
  }
  return {
    async requestTask({ findingId, agent, instructions, by }) {
      const { finding, repository } = await load(findingId);
      if (finding.resolved_at || finding.dismissed_at)
        throw refused(`Finding ${findingId} is ${finding.resolved_at ? "resolved" : "dismissed"}; there is nothing to start.`);
      const result = await requestTask(deps, {
        repository,
        config: lastValidConfig(repository),
        findingId: finding.id,
        issueNumber: finding.issue_number,
        title: finding.title,
        instructions: instructions ?? null,
        agent,
        requestedBy: by.actor,
        trigger: "dashboard",
      });
      if (result.kind === "refused") throw refused(result.refusal.message);
      return { taskId: result.task.id };
    },
    async cancelTask({ taskId, by }) {
      const task = await getTask(deps.db, taskId);
      if (!task) throw refused(`Task ${taskId} no longer exists.`);
      const result = await cancelTask(deps, task, by.actor);
      if (!result.ok) throw refused(result.message);
      return { taskId };
    },
    async retryTask({ taskId, by }) {
      const task = await getTask(deps.db, taskId);
      const repository = task && (await getRepositoryById(deps.db, task.repository_id));
      if (!task || !repository) throw refused(`Task ${taskId} no longer exists.`);
      const config = lastValidConfig(repository);
      // An issue's task: its issue's latest task, as `/agent retry` on the issue would; a finding's: the task itself.
      const result =
        task.issue_number !== null
          ? await retryIssueTask(deps, repository, config, task.issue_number, by.actor)
          : await retryTask(deps, repository, config, task, by.actor);
      if (!result.ok) throw refused(result.message);
      return { taskId: result.task?.id ?? taskId };
    },
    async dismissFinding({ findingId }) {
      const { finding } = await load(findingId);
      // A backlog row stands for its whole group (same text in several places): dismiss them all.
      for (const id of await groupMembers(deps.db, finding.repository_id, finding.id, new Date())) await dismissFinding(deps.db, id);
      return { findingId };
    },
  };
}
