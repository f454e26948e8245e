import { buildPrompt, type PromptInput } from "./build.js";
import { fetchFindingContext, fetchRepositoryInstructions } from "./fetch.js";
import { fetchCheck } from "./fetch-check.js";
import { fetchIssueAtTrigger, fetchWriterComments } from "./fetch-issue.js";
import { fetchDiffSummary, fetchReview } from "./fetch-pull.js";
import type { FollowUpPromptSources, IssuePromptSources, PromptSources, VerifyRoundPromptSources } from "./sources.js";

export { CI_LOG_MAX_BYTES, VERIFY_OUTPUT_MAX_BYTES } from "./sanitize-log.js";
export type {
  CheckSource,
  FailingCheckPromptSources,
  FollowUpPromptSources,
  FollowUpReason,
  IssuePromptSources,
  PermissionCache,
  PromptKind,
  PromptSources,
  RoundRecord,
  TodoPromptSources,
  Trigger,
  VerificationFailure,
  VerifyRoundPromptSources,
} from "./sources.js";

type Gathered = Omit<PromptInput, "repository" | "kind">;

async function gatherIssue(sources: IssuePromptSources): Promise<Gathered> {
  const { octokit, owner, repo, issueNumber } = sources;
  const fallback = { number: issueNumber ?? 0, title: sources.title, body: sources.body ?? "" };
  if (!octokit || issueNumber == null) return { issue: fallback };
  const cache = sources.permissionCache ?? new Map();
  const target = { owner, repo, number: issueNumber };
  const issue = await fetchIssueAtTrigger(octokit, target, sources, cache, sources.snapshot);
  return { issue, comments: await fetchWriterComments(octokit, target, sources, cache) };
}

async function gatherFollowUp(sources: FollowUpPromptSources): Promise<Gathered> {
  const { octokit, owner, repo, pullNumber, reason } = sources;
  const gathered: Gathered = {
    pullRequest: { number: pullNumber, ...(sources.pullTitle && { title: sources.pullTitle }), diffSummary: sources.diffSummary ?? "" },
    earlierRounds: sources.earlierRounds ?? [],
  };
  if (reason.type === "ci") gathered.check = await fetchCheck(octokit, owner, repo, reason.check);
  if (!octokit) return gathered;
  const cache = sources.permissionCache ?? new Map();
  gathered.comments = await fetchWriterComments(octokit, { owner, repo, number: pullNumber }, sources, cache);
  if (reason.type === "review") gathered.review = await fetchReview(octokit, owner, repo, pullNumber, reason.reviewId);
  if (gathered.pullRequest && !sources.diffSummary)
    gathered.pullRequest.diffSummary = await fetchDiffSummary(octokit, owner, repo, pullNumber);
  return gathered;
}

/** Fetches what one kind of work shows the agent (the fetch step); nothing is sanitised yet. */
async function gather(sources: Exclude<PromptSources, VerifyRoundPromptSources>): Promise<Gathered> {
  switch (sources.kind) {
    case "issue":
      return gatherIssue(sources);
    case "todo":
      return { finding: await fetchFindingContext(sources.worktree, sources.finding) };
    case "failing_check":
      return { check: await fetchCheck(sources.octokit, sources.owner, sources.repo, sources.check) };
    case "follow_up":
      return gatherFollowUp(sources);
  }
}

/**
 * Fetches what the agent needs to know, formats it and builds the prompt (fetch -> format -> build).
 * - `issue`: with `octokit` and `issueNumber`, the issue's title, body and writers' comments as they
 *   were at `triggeredAt` (later comments, and later edits by people without write access, left out);
 *   otherwise `title`/`body`.
 * - `todo`: the comment, the code around it (FINDING_CONTEXT_LINES each side) and its line's author and date.
 * - `failing_check`: name, commit, annotations, the run's output and a log excerpt (CI_LOG_MAX_BYTES at most).
 * - `follow_up`: the pull request's diff summary, earlier rounds, writers' comments up to the trigger,
 *   and the review, the instructions or the red check that started it.
 * - `verify_round`: the previous summary and the failure output (VERIFY_OUTPUT_MAX_BYTES at most),
 *   after the original task's sections when `task` is given.
 * Every kind also carries the maintainer's `instructions` and the repository's own agent instruction
 * files. All fetched text is sanitised and fenced as data.
 * @returns the prompt, ending in a newline.
 * @throws the Octokit RequestError (or GraphqlResponseError) of a failed fetch; the task fails with it.
 */
export async function preparePrompt(sources: PromptSources): Promise<string> {
  const task = sources.kind === "verify_round" ? sources.task : sources;
  const gathered: Gathered = task ? await gather(task) : {};
  if (task?.instructions) gathered.instructions = task.instructions;
  if (sources.kind === "verify_round") {
    const { round, maxRounds, previousSummary, failure } = sources;
    gathered.verification = { round, maxRounds, previousSummary, failure };
  }
  gathered.repositoryInstructions = await fetchRepositoryInstructions(sources.worktree);
  return buildPrompt({ repository: sources.repository, kind: sources.kind, ...gathered });
}
