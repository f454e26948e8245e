import type { Octokit } from "@octokit/rest";
import { buildPrompt } from "./build.js";

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
}

/**
 * Fetches what the agent needs to know, formats it and builds the prompt (fetch -> format -> build).
 * @throws the Octokit RequestError of a failed fetch (the task fails with it).
 */
export async function preparePrompt(sources: PromptSources): Promise<string> {
  let issue = sources.issueNumber != null ? { number: sources.issueNumber, title: sources.title, body: sources.body ?? "" } : undefined;
  if (sources.octokit && sources.issueNumber != null) {
    const { data } = await sources.octokit.rest.issues.get({ owner: sources.owner, repo: sources.repo, issue_number: sources.issueNumber });
    issue = { number: data.number, title: data.title, body: data.body ?? "" };
  }
  return buildPrompt({ repository: sources.repository, issue, instructions: sources.instructions });
}
