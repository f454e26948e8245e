import type { Octokit } from "@octokit/rest";

/** Changed files listed in a follow-up's diff summary; the rest are counted. */
export const MAX_DIFF_FILES = 100;
/** Review comments kept from one review. */
const MAX_REVIEW_COMMENTS = 50;

/** One inline review comment: where it points and what it says (untrusted). */
export interface FetchedReviewComment {
  path: string;
  line: number | null;
  body: string;
  /** The diff lines GitHub shows above the comment. */
  diffHunk: string;
}

/** A submitted review: its state, author and text, and its inline comments (all text untrusted). */
export interface FetchedReview {
  author: string;
  state: string;
  body: string;
  comments: FetchedReviewComment[];
}

/**
 * One review of a pull request with its inline comments (`GET .../pulls/{n}/reviews/{id}` and
 * `.../reviews/{id}/comments`). Who may start a follow-up from it is the handler's check; the
 * review's text arrives here as it was submitted (the review's own time is the trigger).
 * @throws the Octokit RequestError of a failed request.
 */
export async function fetchReview(
  octokit: Octokit,
  owner: string,
  repo: string,
  pullNumber: number,
  reviewId: number,
): Promise<FetchedReview> {
  const { data: review } = await octokit.rest.pulls.getReview({ owner, repo, pull_number: pullNumber, review_id: reviewId });
  const { data: comments } = await octokit.rest.pulls.listCommentsForReview({
    owner,
    repo,
    pull_number: pullNumber,
    review_id: reviewId,
    per_page: MAX_REVIEW_COMMENTS,
  });
  return {
    author: review.user?.login ?? "",
    state: review.state,
    body: review.body ?? "",
    comments: comments.map((c) => ({
      path: c.path,
      line: (c as { line?: number | null }).line ?? c.position ?? null,
      body: c.body,
      diffHunk: c.diff_hunk,
    })),
  };
}

/**
 * The pull request's changed files as `status path (+added -deleted)` lines, from
 * `GET .../pulls/{n}/files` (the first MAX_DIFF_FILES; more are counted, not listed).
 * @throws the Octokit RequestError of a failed request.
 */
export async function fetchDiffSummary(octokit: Octokit, owner: string, repo: string, pullNumber: number): Promise<string> {
  const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: pullNumber });
  const { data: files } = await octokit.rest.pulls.listFiles({ owner, repo, pull_number: pullNumber, per_page: MAX_DIFF_FILES });
  const lines = files.map((f) => `${f.status} ${f.filename} (+${f.additions} -${f.deletions})`);
  const more = pull.changed_files - files.length;
  if (more > 0) lines.push(`... and ${more} more files`);
  lines.push(`${pull.changed_files} files changed, +${pull.additions} -${pull.deletions}`);
  return lines.join("\n");
}
