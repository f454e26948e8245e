import type { RepositorySummary, TaskWithRepo } from "../queries.js";
import { dollars, html, percent, type SafeHtml } from "./html.js";

/** What the overview shows. */
export interface OverviewData {
  repositories: RepositorySummary[];
  active: TaskWithRepo[];
  running: number;
  queued: number;
  todayCostUsd: number;
  mergeRate: number | null;
}

export function taskState(state: string): SafeHtml {
  return html`<span class="state ${state}" data-state>${state}</span>`;
}

/** Overview: figures, repositories with open work, and what is running or queued. */
export function overviewPage(d: OverviewData): SafeHtml {
  return html`<h1>Overview</h1>
<div class="figures">
<div class="card">Running<b id="running">${d.running}</b></div><div class="card">Queued<b>${d.queued}</b></div>
<div class="card">Cost today<b>${dollars(d.todayCostUsd)}</b></div><div class="card">Merge rate (12 weeks)<b>${percent(d.mergeRate)}</b></div>
</div>
<h2>Repositories</h2>
${
  d.repositories.length === 0
    ? html`<p class="muted">No repositories you can read have been scanned yet.</p>`
    : html`<table id="repositories"><tr><th>Repository</th><th class="num">Open findings</th><th class="num">Open tasks</th><th></th></tr>
${d.repositories.map(
  (r) =>
    html`<tr><td><a href="/repos/${r.fullName}">${r.fullName}</a></td><td class="num">${r.openFindings}</td><td class="num">${r.openTasks}</td><td>${r.configError ? html`<span class="err" title="${r.configError}">config error</span>` : ""}</td></tr>`,
)}</table>`
}
<h2>Active tasks</h2>
${
  d.active.length === 0
    ? html`<p class="muted">Nothing is running.</p>`
    : html`<table><tr><th>Task</th><th>Repository</th><th>State</th><th>Asked by</th></tr>
${d.active.map((t) => html`<tr><td><a href="/tasks/${t.id}">#${t.id} ${t.title}</a></td><td>${t.repository}</td><td>${taskState(t.state)}</td><td>@${t.requested_by}</td></tr>`)}</table>`
}`;
}
