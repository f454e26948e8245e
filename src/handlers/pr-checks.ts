import type { Context } from "probot";
import { PER_PAGE } from "../github/http.js";
import { upsertRepository } from "../store/repositories.js";
import { findTaskByPullRequest } from "../store/tasks.js";
import type { Logger } from "../util/logger.js";
import type { HandlerDeps } from "./types.js";

/** Check names the bot writes itself: its own red check never starts a follow-up. */
const OWN_CHECKS = /^backlog-bot\b/;

/** Conclusions that are a red check (https://docs.github.com/en/rest/checks/runs). */
const RED = new Set(["failure", "timed_out"]);

/**
 * Red CI on the head of a pull request backlog-bot opened (`check_suite.completed`, which every
 * CI app — GitHub Actions included — sends): one follow-up per failing check and head SHA
 * (issue 10). The job key and the follow-up decision both dedupe, so a redelivery or the same
 * failure reported again on that head starts nothing new.
 */
export async function followUpRedSuite(context: Context<"check_suite.completed">, deps: HandlerDeps, log: Logger): Promise<void> {
  const suite = context.payload.check_suite;
  const pulls = (suite.pull_requests ?? []).map((p) => p.number);
  if (!deps.followUps || !RED.has(suite.conclusion ?? "") || pulls.length === 0) return;
  const { repository } = context.payload;
  const stored = await upsertRepository(deps.db, {
    fullName: repository.full_name,
    githubId: repository.id,
    installationId: context.payload.installation?.id ?? null,
    defaultBranch: repository.default_branch,
    cloneUrl: repository.clone_url,
  });
  const tasks = (await Promise.all(pulls.map((n) => findTaskByPullRequest(deps.db, stored.id, n)))).filter((t) => t !== undefined);
  if (tasks.length === 0) return;
  const { data } = await context.octokit.request("GET /repos/{owner}/{repo}/check-suites/{check_suite_id}/check-runs", {
    ...context.repo(),
    check_suite_id: suite.id,
    filter: "latest",
    per_page: PER_PAGE,
  });
  const failing = data.check_runs.filter((r) => RED.has(r.conclusion ?? "") && !OWN_CHECKS.test(r.name));
  for (const task of tasks) {
    for (const run of failing) {
      await deps.followUps.enqueue(
        { taskId: task.id, trigger: { type: "ci", checkName: run.name, headSha: suite.head_sha }, actor: null },
        `ci:${suite.head_sha}:${run.name}`,
      );
      log.info({ taskId: task.id, check: run.name, sha: suite.head_sha }, "follow-up queued for red CI");
    }
  }
}
