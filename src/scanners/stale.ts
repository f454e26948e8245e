import type { StaleConfig } from "../config/schema.js";
import type { IssueSnapshot } from "../store/issue-snapshots.js";
import { issueSignals, openIssues } from "./issue-listing.js";
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

/**
 * Labels and comments stale issues not yet labelled, like actions/stale, making at most
 * `operationsPerRun` writes (each label and each comment is one): the rest wait for the next run.
 * @returns the issue numbers marked.
 */
export async function markStale(ctx: ScanContext, issues: IssueSnapshot[]): Promise<number[]> {
  const config = ctx.config.stale;
  let operations = 0;
  const marked: number[] = [];
  for (const issue of issues) {
    if (issue.labels.some((l) => cleanLabel(l) === cleanLabel(config.staleLabel))) continue;
    if (operations + 2 > config.operationsPerRun) break;
    const target = { owner: ctx.owner, repo: ctx.repo, issue_number: issue.number };
    ctx.budget.spend(`label #${issue.number}`);
    await ctx.api.request("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", { ...target, labels: [config.staleLabel] });
    ctx.budget.spend(`comment #${issue.number}`);
    await ctx.api.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...target, body: config.staleMessage });
    operations += 2;
    marked.push(issue.number);
  }
  if (marked.length > 0) ctx.log.info({ marked: marked.length, operations }, "stale issues marked");
  return marked;
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
    if (ctx.config.stale.mark)
      await markStale(
        ctx,
        stale.map((s) => s.issue),
      );
    return { findings: stale.map((s) => toFinding(s.issue, s.idleDays, ctx.now)), scope: { kinds: ["stale_issue"] } };
  },
};
