import type { Octokit } from "@octokit/rest";

/** Where and what to post. */
export interface CommentOnce {
  owner: string;
  repo: string;
  issueNumber: number;
  body: string;
  /**
   * Identifies this one reply (e.g. `task-12:pr_open:1`, `delivery:<id>`). It is hidden in the body
   * as an HTML comment; a comment that already carries it means the reply was posted before a crash.
   */
  marker: string;
  /** Only comments updated since this ISO time are searched for the marker (GitHub's `since`). */
  since?: string;
}

/** The hidden line that marks a reply. */
export function markerLine(marker: string): string {
  return `<!-- backlog-bot:${marker.replace(/--/g, "-")} -->`;
}

/**
 * Posts a comment unless an app's comment with the same marker exists: at-least-once jobs thus say
 * a thing exactly once. Costs one listing request (GET /repos/{owner}/{repo}/issues/{n}/comments with
 * `since`, https://docs.github.com/en/rest/issues/comments#list-issue-comments) before the post.
 * @returns whether a comment was posted now.
 * @throws the Octokit RequestError when GitHub cannot be reached (the job retries).
 */
export async function commentOnce(octokit: Octokit, input: CommentOnce): Promise<boolean> {
  const line = markerLine(input.marker);
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: input.owner,
    repo: input.repo,
    issue_number: input.issueNumber,
    per_page: 100,
    ...(input.since && { since: input.since }),
  });
  // Only an app's comment counts (a GitHub App's comments are by a user of type Bot, which no person
  // is): anyone may write the marker, and a forged one would silence the reply for good.
  if (comments.some((c) => c.user?.type === "Bot" && c.body?.includes(line))) return false;
  await octokit.rest.issues.createComment({
    owner: input.owner,
    repo: input.repo,
    issue_number: input.issueNumber,
    body: `${input.body}\n\n${line}`,
  });
  return true;
}
