import type { StaleConfig } from "../config/schema.js";
import type { IssueSnapshot } from "../store/issue-snapshots.js";
import { forgetIssue, issueSignals, openIssues } from "./issue-listing.js";
import type { ScanContext, Scanner } from "./registry.js";
import type { Finding } from "./types.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * actions/stale compares labels after lower-casing and removing diacritics (its `cleanLabel`,
 * src/functions/clean-label.ts), so `Pinned` exempts an issue labelled `pinned`.
 */
export function cleanLabel(label: string): string {
  return label
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();
}

/** Why an issue is or is not stale, for logs and tests. */
export type StaleVerdict =
  | { stale: true; reason: "inactive" | "labelled"; idleDays: number }
  | { stale: false; reason: "exempt-label" | "exempt-assignee" | "exempt-milestone" | "not-only-labels" | "active" };

/**
 * The actions/stale rules (https://github.com/actions/stale#list-of-input-options) for one open issue:
 * exempt milestones, assignees and labels first; then `onlyLabels` (all must be present); then an issue
 * already carrying `staleLabel` stays stale (marking it updated it, as in actions/stale); else it is
 * stale when not updated for more than `daysBeforeStale` days (actions/stale's `isOlderThan`).
 */
export function staleVerdict(issue: IssueSnapshot, config: StaleConfig, now: Date): StaleVerdict {
  const labels = new Set(issue.labels.map(cleanLabel));
  const exempt = (list: string[]) => list.some((l) => labels.has(cleanLabel(l)));
  if ((config.exemptAllMilestones && issue.milestone) || (issue.milestone && config.exemptMilestones.includes(issue.milestone))) {
    return { stale: false, reason: "exempt-milestone" };
  }
  if ((config.exemptAllAssignees && issue.assignees.length > 0) || issue.assignees.some((a) => config.exemptAssignees.includes(a))) {
    return { stale: false, reason: "exempt-assignee" };
  }
  if (exempt(config.exemptLabels)) return { stale: false, reason: "exempt-label" };
  if (config.onlyLabels.length > 0 && !config.onlyLabels.every((l) => labels.has(cleanLabel(l)))) {
    return { stale: false, reason: "not-only-labels" };
  }
  const idleDays = Math.floor((now.getTime() - Date.parse(issue.updatedAt)) / DAY_MS);
  if (labels.has(cleanLabel(config.staleLabel))) return { stale: true, reason: "labelled", idleDays };
  if (now.getTime() - Date.parse(issue.updatedAt) > config.daysBeforeStale * DAY_MS) return { stale: true, reason: "inactive", idleDays };
  return { stale: false, reason: "active" };
}

function toFinding(issue: IssueSnapshot, idleDays: number, now: Date): Finding {
  const ageDays = Math.floor((now.getTime() - Date.parse(issue.createdAt)) / DAY_MS);
  return {
    kind: "stale_issue",
    fingerprint: `stale_issue:${issue.number}`,
    title: `Stale: ${issue.title} (#${issue.number})`,
    body: `Open for ${ageDays} days; no activity for ${idleDays} days.`,
    url: issue.url,
    issueNumber: issue.number,
    signals: issueSignals(issue),
  };
}

/** The status of an Octokit `RequestError`, if the error is one. */
function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown }).status;
  return typeof status === "number" ? status : undefined;
}

/**
 * Whether a 403 or 429 is GitHub's rate limit (primary: `x-ratelimit-remaining: 0`; secondary: a
 * `retry-after` header or the message), which is about the whole run rather than one issue
 * (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit).
 */
function isRateLimited(error: unknown): boolean {
  const { message, response } = error as { message?: string; response?: { headers?: Record<string, unknown> } };
  const headers = response?.headers ?? {};
  return (
    statusOf(error) === 429 ||
    String(headers["x-ratelimit-remaining"]) === "0" ||
    headers["retry-after"] !== undefined ||
    /rate limit/i.test(message ?? "")
  );
}

/** What `markStale` did: issues labelled and commented, and issues GitHub answered as gone. */
export interface MarkOutcome {
  marked: number[];
  /** Answered 404 or 410 (deleted, transferred): dropped from the snapshot, no longer stale findings. */
  gone: number[];
}

/**
 * Comments on and labels stale issues not yet labelled, like actions/stale (its `_markStale`:
 * the comment first, then the label), making at most `operationsPerRun` writes (each comment and
 * each label is one, failed ones too): the rest wait for the next run. The order is what keeps a
 * failure from leaving an issue labelled without its comment, which every later run would skip as
 * marked: a comment that fails with a 5xx leaves nothing done, and a label that fails after its
 * comment leaves an issue that the comment made active again. A write answered 404 or 410 (the
 * issue deleted or transferred, which the `since` listing never reports) drops the issue from the
 * snapshot (`forgetIssue`) and the run goes on; a comment refused with 403 (not a rate limit; e.g. a
 * locked issue) or 422 still gets the label, as in actions/stale, and a label so refused skips the
 * issue. An issue is marked only when the request budget still holds both of its writes.
 * @returns the issues marked, and those found gone.
 * @throws other Octokit request errors (5xx, rate limits) and `BudgetExhaustedError`.
 */
export async function markStale(ctx: ScanContext, issues: IssueSnapshot[]): Promise<MarkOutcome> {
  const config = ctx.config.stale;
  let operations = 0;
  const marked: number[] = [];
  const gone: number[] = [];
  /** One write: done, gone (404/410), or refused for this issue alone (403 not rate-limited, 422). */
  const write = async (issue: number, what: string, send: () => Promise<unknown>): Promise<"done" | "gone" | "refused"> => {
    ctx.budget.spend(`${what} #${issue}`);
    operations++;
    try {
      await send();
      return "done";
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 || status === 410) return "gone";
      if ((status === 403 && !isRateLimited(error)) || status === 422) {
        ctx.log.warn({ err: error, issue, status }, `stale issue: the ${what} was refused`);
        return "refused";
      }
      throw error;
    }
  };
  for (const issue of issues) {
    if (issue.labels.some((l) => cleanLabel(l) === cleanLabel(config.staleLabel))) continue;
    if (operations + 2 > config.operationsPerRun) break;
    if (ctx.budget.remaining < 2) {
      ctx.log.info({ remaining: ctx.budget.remaining }, "request budget too low to comment and label; marking waits for the next run");
      break;
    }
    const target = { owner: ctx.owner, repo: ctx.repo, issue_number: issue.number };
    const commented = await write(issue.number, "comment", () =>
      ctx.api.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...target, body: config.staleMessage }),
    );
    const labelled =
      commented === "gone"
        ? "gone"
        : await write(issue.number, "label", () =>
            ctx.api.request("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", { ...target, labels: [config.staleLabel] }),
          );
    if (labelled === "done") marked.push(issue.number);
    else if (labelled === "gone") {
      ctx.log.warn({ issue: issue.number }, "stale issue is gone (deleted or transferred); dropped from the snapshot");
      await forgetIssue(ctx, issue.number);
      gone.push(issue.number);
    }
  }
  if (marked.length > 0 || gone.length > 0) ctx.log.info({ marked: marked.length, gone: gone.length, operations }, "stale issues marked");
  return { marked, gone };
}

/** Open issues without activity (actions/stale semantics) become `stale_issue` findings. */
export const staleScanner: Scanner = {
  name: "stale",
  kinds: ["stale_issue"],
  async scan(ctx) {
    const issues = await openIssues(ctx);
    const stale: { issue: IssueSnapshot; idleDays: number }[] = [];
    for (const issue of issues) {
      const verdict = staleVerdict(issue, ctx.config.stale, ctx.now);
      if (verdict.stale) stale.push({ issue, idleDays: verdict.idleDays });
    }
    // Oldest first, so a small operations budget marks the longest-forgotten issues.
    stale.sort((a, b) => a.issue.updatedAt.localeCompare(b.issue.updatedAt));
    const toMark = stale.map((s) => s.issue);
    const { gone }: Pick<MarkOutcome, "gone"> = ctx.config.stale.mark ? await markStale(ctx, toMark) : { gone: [] };
    // A deleted or transferred issue is no longer work: its finding is resolved by its absence.
    const kept = stale.filter((s) => !gone.includes(s.issue.number));
    return { findings: kept.map((s) => toFinding(s.issue, s.idleDays, ctx.now)), scope: { kinds: ["stale_issue"] } };
  },
};
