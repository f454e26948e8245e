import { RequestError } from "@octokit/request-error";
import { PER_PAGE } from "../github/http.js";
import { type ApiCheckRun, type CheckOutcome, type CheckTarget, outcomeOfCheckRun, recordCheckOutcome } from "../scanners/checks.js";
import { upsertRepository } from "../store/repositories.js";
import type { Logger } from "../util/logger.js";
import { followUpRedSuite } from "./pr-checks.js";
import type { Handler, HandlerDeps } from "./types.js";

/** A repository as payloads name it (the event's own, or a run's `head_repository`). */
interface RepoRef {
  id?: number;
  full_name?: string;
}

interface RepoPayload {
  repository: RepoRef & { full_name: string; default_branch: string; clone_url: string; owner: { login: string }; name: string };
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
    githubId: payload.repository.id,
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

/** Whether `other` is the event's repository: by id when both carry one, else by full name. */
function sameRepository(payload: RepoPayload, other: RepoRef | null | undefined): boolean {
  if (!other) return false;
  const own = payload.repository;
  if (own.id !== undefined && other.id !== undefined) return own.id === other.id;
  return other.full_name !== undefined && other.full_name === own.full_name;
}

/**
 * Workflow run events whose commit is this repository's own branch head (a push to it, its
 * schedule, a writer's dispatch). A `pull_request` run, a fork's above all, names the head branch
 * of the pull request, which a fork may call `main` too.
 */
const OWN_BRANCH_EVENTS = new Set(["push", "schedule", "workflow_dispatch"]);

/**
 * Head commits found on their repository's default branch, per app (its handler deps), oldest
 * first, at most `KNOWN_ON_DEFAULT`: every check of a push sends its own `check_run.completed` for
 * the same commit (30 checks, 30 events), and a commit on the default branch stays on it (short of
 * a force-push), so it is compared once. A commit not on it is not kept: it may be merged later.
 */
const knownOnDefault = new WeakMap<HandlerDeps, Set<string>>();
const KNOWN_ON_DEFAULT = 1000;

/**
 * Whether a check (run or suite) is on this repository's default branch. Its payload names only the
 * head branch, which is the fork's for a fork's pull request (GitHub runs those in this repository,
 * so a fork's `main` arrives as `head_branch: "main"`, with `pull_requests: []`); so the branch name
 * must match and the head commit must be on the default branch here: compare `{default}...{sha}`
 * is `identical` or `behind` (https://docs.github.com/en/rest/commits/commits#compare-two-commits).
 * A head repository, when the payload carries one, must be this one.
 */
async function onDefaultBranch(
  context: { payload: RepoPayload; octokit: { request: CheckTarget["api"]["request"] }; repo: () => { owner: string; repo: string } },
  deps: HandlerDeps,
  check: { head_branch?: string | null; head_sha?: string | null; head_repository?: RepoRef | null },
): Promise<boolean> {
  const branch = context.payload.repository.default_branch;
  if (!branch || check.head_branch !== branch || !check.head_sha) return false;
  if (check.head_repository && !sameRepository(context.payload, check.head_repository)) return false;
  const key = `${context.payload.repository.id ?? context.payload.repository.full_name}\0${branch}\0${check.head_sha}`;
  const known = knownOnDefault.get(deps) ?? new Set<string>();
  if (known.has(key)) return true;
  try {
    const { data } = await context.octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
      ...context.repo(),
      basehead: `${branch}...${check.head_sha}`,
      per_page: 1,
    });
    const on = data.status === "identical" || data.status === "behind";
    if (on) {
      knownOnDefault.set(deps, known);
      known.add(key);
      if (known.size > KNOWN_ON_DEFAULT) known.delete(known.values().next().value as string);
    }
    return on;
  } catch (error) {
    // A commit this repository does not have (or cannot compare): not on its default branch.
    if (error instanceof RequestError && (error.status === 404 || error.status === 422)) return false;
    throw error;
  }
}

/** `check_run.completed` on the default branch: one check's outcome (https://docs.github.com/en/webhooks/webhook-events-and-payloads#check_run). */
export const onCheckRunCompleted: Handler<"check_run.completed"> = async (context, deps, log) => {
  const run = context.payload.check_run;
  if (!(await onDefaultBranch(context, deps, { ...run.check_suite, head_sha: run.head_sha }))) return;
  await recordOutcomes(context, deps, log, async () => [outcomeOfCheckRun(run as unknown as ApiCheckRun)]);
};

/** `check_suite.completed` on the default branch: every check run of the suite (one request to list them). */
export const onCheckSuiteCompleted: Handler<"check_suite.completed"> = async (context, deps, log) => {
  const suite = context.payload.check_suite;
  // Not the default branch: red CI on a pull request the bot opened may start a follow-up (issue 10).
  if (!(await onDefaultBranch(context, deps, suite))) return void (await followUpRedSuite(context, deps, log));
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
 * ids are the ids of their check runs, so this and `check_run` events meet on one finding). Only a
 * run of this repository's own default branch counts (its head repository is this one, and its
 * event one of `OWN_BRANCH_EVENTS`): a fork's pull request from its `main` also says `head_branch: "main"`.
 */
export const onWorkflowRunCompleted: Handler<"workflow_run.completed"> = async (context, deps, log) => {
  const run = context.payload.workflow_run;
  const own = sameRepository(context.payload, run.head_repository as RepoRef | null) && OWN_BRANCH_EVENTS.has(run.event);
  if (!own || run.head_branch !== context.payload.repository.default_branch) return;
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
