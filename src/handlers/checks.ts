import { PER_PAGE } from "../github/http.js";
import { type ApiCheckRun, type CheckOutcome, type CheckTarget, outcomeOfCheckRun, recordCheckOutcome } from "../scanners/checks.js";
import { upsertRepository } from "../store/repositories.js";
import type { Logger } from "../util/logger.js";
import { followUpRedSuite } from "./pr-checks.js";
import type { Handler, HandlerDeps } from "./types.js";

interface RepoPayload {
  repository: { full_name: string; default_branch: string; clone_url: string; owner: { login: string }; name: string };
  installation?: { id: number };
}

/**
 * Records the outcomes `collect` finds, on the repository's scheduler queue when there is one
 * (serialised with its scans). This runs inside the delivery's job, off the request path: the
 * delivery is handled only when the outcomes are recorded.
 */
async function recordOutcomes(
  context: { payload: unknown; octokit: CheckTarget["api"] },
  deps: HandlerDeps,
  log: Logger,
  collect: () => Promise<CheckOutcome[]>,
): Promise<void> {
  const payload = context.payload as RepoPayload;
  const repository = await upsertRepository(deps.db, {
    fullName: payload.repository.full_name,
    installationId: payload.installation?.id ?? null,
    defaultBranch: payload.repository.default_branch,
    cloneUrl: payload.repository.clone_url,
  });
  const target: CheckTarget = {
    db: deps.db,
    api: context.octokit,
    repository,
    owner: payload.repository.owner.login,
    repo: payload.repository.name,
    log,
  };
  const job = async () => {
    for (const outcome of await collect()) {
      const result = await recordCheckOutcome(target, outcome);
      log.info({ check: outcome.name, conclusion: outcome.conclusion, sha: outcome.headSha, result }, "check outcome recorded");
    }
  };
  const scheduler = deps.scheduler;
  if (scheduler) await scheduler.enqueue(repository, "check outcome", job);
  else await job();
}

const onDefaultBranch = (payload: RepoPayload, branch: string | null | undefined) => branch === payload.repository.default_branch;

/** `check_run.completed` on the default branch: one check's outcome (https://docs.github.com/en/webhooks/webhook-events-and-payloads#check_run). */
export const onCheckRunCompleted: Handler<"check_run.completed"> = async (context, deps, log) => {
  const run = context.payload.check_run;
  if (!onDefaultBranch(context.payload, run.check_suite?.head_branch)) return;
  await recordOutcomes(context, deps, log, async () => [outcomeOfCheckRun(run as unknown as ApiCheckRun)]);
};

/** `check_suite.completed` on the default branch: every check run of the suite (one request to list them). */
export const onCheckSuiteCompleted: Handler<"check_suite.completed"> = async (context, deps, log) => {
  const suite = context.payload.check_suite;
  // Not the default branch: red CI on a pull request the bot opened may start a follow-up (issue 10).
  if (!onDefaultBranch(context.payload, suite.head_branch)) return void (await followUpRedSuite(context, deps, log));
  await recordOutcomes(context, deps, log, async () => {
    const { data } = await context.octokit.request("GET /repos/{owner}/{repo}/check-suites/{check_suite_id}/check-runs", {
      ...context.repo(),
      check_suite_id: suite.id,
      filter: "latest",
      per_page: PER_PAGE,
    });
    return (data.check_runs as unknown as ApiCheckRun[]).filter((r) => r.status === "completed").map(outcomeOfCheckRun);
  });
};

/**
 * `workflow_run.completed` on the default branch: each job of the run is a check (GitHub Actions job
 * ids are the ids of their check runs, so this and `check_run` events meet on one finding).
 */
export const onWorkflowRunCompleted: Handler<"workflow_run.completed"> = async (context, deps, log) => {
  const run = context.payload.workflow_run;
  if (!onDefaultBranch(context.payload, run.head_branch)) return;
  await recordOutcomes(context, deps, log, async () => {
    const { data } = await context.octokit.request("GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs", {
      ...context.repo(),
      run_id: run.id,
      filter: "latest",
      per_page: PER_PAGE,
    });
    return data.jobs
      .filter((job) => job.status === "completed")
      .map((job) => ({
        name: job.name,
        headSha: job.head_sha,
        conclusion: job.conclusion,
        url: job.html_url,
        completedAt: job.completed_at,
        checkRunId: Number(job.id),
        jobId: Number(job.id),
        // The job list carries no annotation count; ask once for failing jobs.
        annotationsCount: 1,
      }));
  });
};
