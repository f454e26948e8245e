import { issueSignals, openIssues } from "./issue-listing.js";
import type { Scanner } from "./registry.js";
import { cleanLabel } from "./stale.js";

/**
 * Open issues carrying any of `issues.labels` (e.g. `bug`) are work as they stand: each becomes an
 * `issue` finding, resolved when the issue is closed or loses the label. Shares the stale scanner's
 * issue listing, so it costs no extra request.
 */
export const issuesScanner: Scanner = {
  name: "issues",
  kinds: ["issue"],
  async scan(ctx) {
    const wanted = new Set(ctx.config.issues.labels.map(cleanLabel));
    const issues = await openIssues(ctx);
    const findings = issues
      .filter((issue) => issue.labels.some((l) => wanted.has(cleanLabel(l))))
      .map((issue) => ({
        kind: "issue" as const,
        fingerprint: `issue:${issue.number}`,
        title: `${issue.title} (#${issue.number})`,
        url: issue.url,
        issueNumber: issue.number,
        signals: issueSignals(issue),
      }));
    return { findings, scope: { kinds: ["issue"] } };
  },
};
