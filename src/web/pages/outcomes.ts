import type { Outcomes } from "../outcomes.js";
import { barChart } from "./charts.js";
import { dollars, duration, html, percent, type SafeHtml } from "./html.js";

/** Outcomes: PRs opened/merged/closed per week, failures per week, lead time, failure and merge rate, cost per merged PR. */
export function outcomesPage(o: Outcomes, weeks: number): SafeHtml {
  const labels = o.weeks.map((w) => w.week);
  return html`<h1>Outcomes</h1><p class="muted">Last ${weeks} weeks, repositories you can read. Lead time runs from the request to the merge; the failure rate counts failed tasks and PRs closed unmerged among ended tasks.</p>
<div class="figures">
<div class="card">Lead time (median)<b>${duration(o.leadTimeSeconds.median)}</b><span class="muted">p90 ${duration(o.leadTimeSeconds.p90)}</span></div>
<div class="card">Failure rate<b>${percent(o.failureRate)}</b></div><div class="card">Merge rate<b>${percent(o.mergeRate)}</b></div>
<div class="card">Cost per merged PR<b>${dollars(o.costPerMergedPr)}</b><span class="muted">total ${dollars(o.totalCostUsd)}</span></div>
</div>
${barChart("Pull requests per week", labels, [
  { name: "opened", color: "#0969da", values: o.weeks.map((w) => w.opened) },
  { name: "merged", color: "#1f883d", values: o.weeks.map((w) => w.merged) },
  { name: "closed", color: "#cf222e", values: o.weeks.map((w) => w.closed) },
])}
${barChart("Failed tasks per week", labels, [{ name: "failed", color: "#bc4c00", values: o.weeks.map((w) => w.failed) }])}`;
}
