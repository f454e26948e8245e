import type { Octokit } from "@octokit/rest";
import { buildPrompt } from "./build.js";
import {
  type FetchedContext,
  fetchFindingContext,
  fetchRepositoryInstructions,
  fetchWriterComments,
  type PermissionCache,
} from "./fetch.js";

export type { PermissionCache } from "./fetch.js";

/** Where a task's prompt comes from. */
export interface PromptSources {
  /** Installation-authenticated client for the repository; absent for local CLI runs. */
  octokit?: Octokit;
  owner: string;
  repo: string;
  /** `owner/repo`, or the path of a local checkout. */
  repository: string;
  issueNumber?: number | null;
  /** Title (and body) to use when there is no issue to fetch, e.g. a TODO finding. */
  title: string;
  body?: string | null;
  /** The maintainer's words after `/agent fix`; untrusted. */
  instructions?: string | null;
  /** The worktree, for the repository's own agent instructions and code around a finding. */
  worktree: string;
  /** A TODO finding: the code around `line` (1-based) of `path` (relative to the worktree) is shown. */
  finding?: { path: string; line: number; title: string };
  /** Shares permission answers across prompts of one repository (per author); a fresh one per call otherwise. */
  permissionCache?: PermissionCache;
}

/**
 * Fetches what the agent needs to know, formats it and builds the prompt (fetch -> format -> build).
 * With an octokit and an issue number, the issue and the comments of people with write access are
 * fetched; otherwise `title`/`body` stand in for the issue.
 * @throws the Octokit RequestError of a failed fetch (the task fails with it).
 */
export async function preparePrompt(sources: PromptSources): Promise<string> {
  const context: FetchedContext = { comments: [], repositoryInstructions: [] };
  if (sources.issueNumber != null) context.issue = { number: sources.issueNumber, title: sources.title, body: sources.body ?? "" };
  if (sources.octokit && sources.issueNumber != null) {
    const { owner, repo, octokit, issueNumber } = sources;
    const { data } = await octokit.rest.issues.get({ owner, repo, issue_number: issueNumber });
    context.issue = { number: data.number, title: data.title, body: data.body ?? "" };
    context.comments = await fetchWriterComments(octokit, owner, repo, issueNumber, sources.permissionCache);
  }
  if (!context.issue && !sources.finding) context.issue = { number: 0, title: sources.title, body: sources.body ?? "" };
  if (sources.finding) context.finding = await fetchFindingContext(sources.worktree, sources.finding);
  context.repositoryInstructions = await fetchRepositoryInstructions(sources.worktree);
  return buildPrompt({ repository: sources.repository, ...context, instructions: sources.instructions });
}
