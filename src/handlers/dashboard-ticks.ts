import type { RepoConfig } from "../config/schema.js";
import { type DashboardAction, inlineText } from "../dashboard/index.js";
import { requestTask, retryIssueTask } from "../executor/requests.js";
import { contentHash } from "../prioritizer/content-hash.js";
import { rankRepositoryBacklog } from "../scheduler/ranked-backlog.js";
import { recordAudit } from "../store/audit.js";
import { dismissFindings, recordFindingOutcome } from "../store/dashboard.js";
import { getFinding } from "../store/findings.js";
import type { Repository } from "../store/schema.js";
import { RETRYABLE_STATES } from "../store/task-lifecycle.js";
import { getTask } from "../store/tasks.js";
import type { Logger } from "../util/logger.js";
import type { HandlerDeps } from "./types.js";

/** Who ticked what, on which repository. */
export interface TickRequest {
  repository: Repository;
  config: RepoConfig;
  /** The sender, already checked for write permission. */
  login: string;
  actions: readonly DashboardAction[];
  log: Logger;
}

/**
 * Carries out a writer's ticks through the request service (so limits and the one-open-task rule
 * hold as for `/agent fix`): start a task on a finding, retry a failed one, dismiss a row (every
 * finding of its group) for good, or queue a rescan. Unknown or stale ids are skipped.
 * @returns one sentence per tick that could not be carried out (limits, no agent), for the reply.
 */
export async function applyTicks(deps: HandlerDeps, request: TickRequest): Promise<string[]> {
  const { db } = deps;
  const { repository, config, login, log } = request;
  const refusals: string[] = [];
  const audit = (action: DashboardAction, target: string, outcome: string, detail?: unknown) =>
    recordAudit(db, { actor: login, action: `dashboard.${action.kind}`, repository: repository.full_name, target, outcome, detail });
  for (const action of request.actions) {
    if (action.kind === "rescan") {
      if (deps.scheduler) {
        deps.scheduler.scanNow(repository).catch((error: unknown) => log.warn({ err: error }, "rescan from the dashboard failed"));
      }
      await audit(action, repository.full_name, deps.scheduler ? "ok" : "unavailable");
      continue;
    }
    if (action.kind === "retry") {
      const task = await getTask(db, action.taskId);
      if (!task || task.repository_id !== repository.id || !RETRYABLE_STATES.includes(task.state)) continue;
      if (task.finding_id === null && task.issue_number !== null) {
        const result = await retryIssueTask(deps.requests, repository, config, task.issue_number, login);
        if (!result.ok) refusals.push(result.message);
        await audit(action, `task:${task.id}`, result.ok ? "ok" : "refused", result.ok ? undefined : { reason: result.message });
        continue;
      }
      const finding = task.finding_id === null ? undefined : await getFinding(db, task.finding_id);
      if (!finding || finding.resolved_at !== null || finding.dismissed_at !== null) continue;
      const result = await requestTask(deps.requests, {
        repository,
        config,
        findingId: finding.id,
        title: finding.title,
        requestedBy: login,
        trigger: "dashboard",
      });
      if (result.kind === "refused") refusals.push(result.refusal.message);
      else if (result.kind === "queued") await recordFindingOutcome(db, finding.id, "queued", contentHash(finding));
      await audit(action, `task:${task.id}`, result.kind === "refused" ? "refused" : "ok", { result: result.kind });
      continue;
    }
    const finding = await getFinding(db, action.findingId);
    if (!finding || finding.repository_id !== repository.id || finding.resolved_at !== null || finding.dismissed_at !== null) continue;
    if (action.kind === "dismiss") {
      // A row stands for its whole group ("add test" ×277), as the dashboard ranked it: dismissing it dismisses them all.
      const ranked = await rankRepositoryBacklog(db, repository, config, new Date());
      const group = ranked.find((r) => r.group.fingerprints.includes(finding.fingerprint))?.group.fingerprints ?? [finding.fingerprint];
      const count = await dismissFindings(db, repository.id, group, login);
      log.info({ findingId: finding.id, count, by: login }, "findings dismissed from the dashboard");
      await audit(action, `finding:${finding.id}`, "ok", { dismissed: count });
      continue;
    }
    const result = await requestTask(deps.requests, {
      repository,
      config,
      findingId: finding.id,
      issueNumber: finding.issue_number,
      title: finding.title,
      requestedBy: login,
      trigger: "dashboard",
    });
    if (result.kind === "refused") refusals.push(`${inlineText(finding.title, 80)}: ${result.refusal.message}`);
    else if (result.kind === "queued") await recordFindingOutcome(db, finding.id, "queued", contentHash(finding));
    await audit(action, `finding:${finding.id}`, result.kind === "refused" ? "refused" : "ok", { result: result.kind });
  }
  return refusals;
}
