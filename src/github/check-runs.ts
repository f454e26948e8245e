import type { Octokit } from "@octokit/rest";

/**
 * Check runs the bot writes on commits (https://docs.github.com/en/rest/checks/runs). A check run
 * belongs to one head SHA, so evidence written for a commit goes stale by itself when anyone pushes
 * a newer one. Needs the app's `checks: write` permission.
 */

/** The verify check's name, as it shows in the PR's checks list. */
export const VERIFY_CHECK_NAME = "backlog-bot / verify";

/** GitHub's documented limit on `output.summary` and `output.text` (characters). */
export const MAX_CHECK_OUTPUT = 65_535;

/** What a check run shows. `title` is one line; `summary` and `text` are Markdown. */
export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
}

/** Where a check run goes and what it says. */
export interface CheckRunInput {
  owner: string;
  repo: string;
  headSha: string;
  /** Default `VERIFY_CHECK_NAME`. */
  name?: string;
  /**
   * Our own id for this piece of evidence (e.g. `task-12:round-2`): a retried job finds the run it
   * already created for the same SHA and updates it instead of adding a second one.
   */
  externalId: string;
  /** Link shown as "Details" (the bot's task page). */
  detailsUrl?: string;
}

/** A finished check run. */
export interface CompletedCheckRun extends CheckRunInput {
  conclusion: "success" | "failure" | "neutral";
  output: CheckRunOutput;
  /** ISO time the checked work started; default: now. */
  startedAt?: string;
}

function bounded(output: CheckRunOutput): CheckRunOutput {
  return {
    title: output.title.slice(0, 1000),
    summary: output.summary.slice(0, MAX_CHECK_OUTPUT),
    ...(output.text !== undefined && { text: output.text.slice(0, MAX_CHECK_OUTPUT) }),
  };
}

/** The id of our existing run with this name and external id on `headSha`, if any (one listing request). */
async function findExisting(octokit: Octokit, input: CheckRunInput & { name: string }): Promise<number | undefined> {
  const { data } = await octokit.rest.checks.listForRef({
    owner: input.owner,
    repo: input.repo,
    ref: input.headSha,
    check_name: input.name,
    filter: "latest",
    per_page: 100,
  });
  return data.check_runs.find((run) => run.external_id === input.externalId)?.id;
}

/**
 * Shows the check as running on `headSha` (POST /repos/{owner}/{repo}/check-runs, `status: in_progress`).
 * @returns the check run's id, for `completeCheckRun`.
 * @throws the Octokit RequestError when GitHub refuses or cannot be reached (the job retries).
 */
export async function startCheckRun(octokit: Octokit, input: CheckRunInput): Promise<number> {
  const name = input.name ?? VERIFY_CHECK_NAME;
  const existing = await findExisting(octokit, { ...input, name });
  const fields = {
    status: "in_progress" as const,
    started_at: new Date().toISOString(),
    ...(input.detailsUrl && { details_url: input.detailsUrl }),
  };
  return writeCheckRun(octokit, input, name, existing, fields);
}

/**
 * Completes a check run started with `startCheckRun` (PATCH /repos/{owner}/{repo}/check-runs/{id}).
 * @throws the Octokit RequestError when GitHub refuses or cannot be reached.
 */
export async function completeCheckRun(
  octokit: Octokit,
  input: { owner: string; repo: string; checkRunId: number; conclusion: CompletedCheckRun["conclusion"]; output: CheckRunOutput },
): Promise<void> {
  await octokit.rest.checks.update({
    owner: input.owner,
    repo: input.repo,
    check_run_id: input.checkRunId,
    status: "completed",
    conclusion: input.conclusion,
    completed_at: new Date().toISOString(),
    output: bounded(input.output),
  });
}

/**
 * Writes a completed check run on `headSha` in one go, updating the one a retried job already
 * wrote (same name and external id) rather than adding another.
 * @returns the check run's id.
 * @throws the Octokit RequestError when GitHub refuses or cannot be reached.
 */
export async function publishCheckRun(octokit: Octokit, input: CompletedCheckRun): Promise<number> {
  const name = input.name ?? VERIFY_CHECK_NAME;
  const now = new Date().toISOString();
  const fields = {
    status: "completed" as const,
    conclusion: input.conclusion,
    started_at: input.startedAt ?? now,
    completed_at: now,
    output: bounded(input.output),
    ...(input.detailsUrl && { details_url: input.detailsUrl }),
  };
  const existing = await findExisting(octokit, { ...input, name });
  return writeCheckRun(octokit, input, name, existing, fields);
}

/** Updates the run a retried job already wrote (`existing`), or creates it: one check run per name and external id. */
async function writeCheckRun(
  octokit: Octokit,
  input: CheckRunInput,
  name: string,
  existing: number | undefined,
  fields: Omit<Parameters<Octokit["rest"]["checks"]["create"]>[0] & object, "owner" | "repo" | "name" | "head_sha" | "external_id">,
): Promise<number> {
  if (existing !== undefined) {
    await octokit.rest.checks.update({ owner: input.owner, repo: input.repo, check_run_id: existing, ...fields });
    return existing;
  }
  const { data } = await octokit.rest.checks.create({
    owner: input.owner,
    repo: input.repo,
    name,
    head_sha: input.headSha,
    external_id: input.externalId,
    ...fields,
  });
  return data.id;
}
