import type { FetchedCheck } from "./fetch-check.js";
import type { FetchedReview } from "./fetch-pull.js";
import type { FormatInput } from "./format.js";
import { sanitizeCode, sanitizeUntrusted } from "./sanitize.js";
import { CI_LOG_MAX_BYTES, sanitizeLog, VERIFY_OUTPUT_MAX_BYTES } from "./sanitize-log.js";
import { cap, LIMITS, section } from "./section.js";

/** A failing check: name, commit and conclusion as attributes; annotations, the run's output and the log excerpt as data. */
function formatCheck(check: FetchedCheck): string[] {
  const attributes = { name: check.name, commit: check.headSha, conclusion: check.conclusion ?? "failure" };
  const annotations = cap(sanitizeLog(check.annotations.join("\n"), LIMITS.annotations), LIMITS.annotations);
  const out = [section("failing_check", annotations ? `Annotations:\n${annotations}` : "No annotations.", attributes)];
  const output = cap(sanitizeUntrusted(check.output), LIMITS.checkOutput);
  if (output) out.push(section("check_output", output, { name: check.name }));
  const log = sanitizeLog(check.log, CI_LOG_MAX_BYTES);
  if (log) out.push(section("ci_log", log, { name: check.name, max_bytes: CI_LOG_MAX_BYTES }));
  return out;
}

/** A review's text and its inline comments, each with the diff lines it points at (as code). */
function formatReview(review: FetchedReview): string[] {
  const out: string[] = [];
  const body = cap(sanitizeUntrusted(review.body), LIMITS.review);
  out.push(section("review", body || "(no summary text)", { author: review.author, state: review.state }));
  let budget: number = LIMITS.reviewComments;
  for (const comment of review.comments) {
    const text = cap(sanitizeUntrusted(comment.body), LIMITS.reviewComment);
    const hunk = cap(sanitizeCode(comment.diffHunk), LIMITS.reviewComment);
    const data = `${text}\n\nDiff lines it refers to:\n${hunk}`;
    if (!text || budget - data.length < 0) continue;
    budget -= data.length;
    out.push(section("review_comment", data, { path: comment.path, line: comment.line ?? "file" }));
  }
  return out;
}

/**
 * The sections of work that is not a plain issue: a failing check, a pull request's diff summary
 * and review, earlier rounds, and a failing verification with the previous summary. Logs and test
 * output are sanitised as logs (sanitize-log.ts) and capped in bytes; prose as Markdown. Pure.
 */
export function formatWork(input: FormatInput): string[] {
  const out: string[] = [];
  if (input.pullRequest) {
    const { number, title, diffSummary } = input.pullRequest;
    if (title) out.push(section("pull_request", cap(sanitizeUntrusted(title), LIMITS.title), { number }));
    if (diffSummary) out.push(section("diff_summary", cap(sanitizeCode(diffSummary), LIMITS.diffSummary), { number }));
  }
  for (const round of input.earlierRounds ?? []) {
    const summary = cap(sanitizeUntrusted(round.summary ?? ""), LIMITS.round) || "(no summary)";
    out.push(section("earlier_round", summary, { round: round.round, trigger: round.trigger, outcome: round.outcome }));
  }
  if (input.review) out.push(...formatReview(input.review));
  if (input.check) out.push(...formatCheck(input.check));
  if (input.verification) {
    const { round, maxRounds, previousSummary, failure } = input.verification;
    const summary = cap(sanitizeUntrusted(previousSummary ?? ""), LIMITS.round);
    if (summary) out.push(section("previous_summary", summary, { round: round - 1 }));
    const newFailures = failure.newFailures?.length ? `New failures:\n${sanitizeLog(failure.newFailures.join("\n"), 4096)}\n\n` : "";
    const output = sanitizeLog(failure.output, VERIFY_OUTPUT_MAX_BYTES) || "(no output)";
    out.push(
      section("verify_failure", `${newFailures}Output (last ${VERIFY_OUTPUT_MAX_BYTES} bytes at most):\n${output}`, {
        command: failure.command,
        exit_code: failure.exitCode ?? "none",
        round,
        max_rounds: maxRounds,
      }),
    );
  }
  return out;
}
