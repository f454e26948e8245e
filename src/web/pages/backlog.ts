import { RETRYABLE_STATES } from "../../store/task-lifecycle.js";
import type { BacklogRow } from "../queries.js";
import { html, type SafeHtml } from "./html.js";
import { taskState } from "./overview.js";

/** What the backlog page shows. */
export interface BacklogData {
  repository: string;
  rows: BacklogRow[];
  total: number;
  offset: number;
  limit: number;
  canWrite: boolean;
  csrf: string;
}

function location(r: BacklogRow): SafeHtml {
  if (r.path)
    return html`<code>${r.path}${r.line ? `:${r.line}` : ""}</code>${r.group.count > 1 ? html` <span class="muted">and ${r.group.count - 1} more</span>` : ""}`;
  if (r.issueNumber) return r.url ? html`<a href="${r.url}">#${r.issueNumber}</a>` : html`#${r.issueNumber}`;
  return html``;
}

/** A write button as a plain form post (works without script); `_csrf` proves the page issued it. */
function button(action: string, label: string, csrf: string, primary = false): SafeHtml {
  return html`<form class="inline" method="post" action="${action}"><input type="hidden" name="_csrf" value="${csrf}"><button${primary ? html` class="primary"` : ""}>${label}</button></form>`;
}

function actions(r: BacklogRow, d: BacklogData): SafeHtml {
  if (!d.canWrite) return html``;
  const state = r.task?.state;
  if (state && ["queued", "running", "pr_open"].includes(state)) return html``;
  const first =
    r.task && state && RETRYABLE.has(state)
      ? button(`/api/v1/tasks/${r.task.id}/retry`, "Retry", d.csrf, true)
      : button(`/api/v1/findings/${r.findingId}/tasks`, "Start", d.csrf, true);
  return html`${first} ${button(`/api/v1/findings/${r.findingId}/dismiss`, "Dismiss", d.csrf)}`;
}

/** Ended states a task can be retried from (the request service's rule). */
const RETRYABLE = new Set<string>(RETRYABLE_STATES);

/** A repository's ranked backlog: score, its breakdown, location, latest task, and start/dismiss/retry buttons for writers. */
export function backlogPage(d: BacklogData): SafeHtml {
  const prev = d.offset > 0 ? Math.max(0, d.offset - d.limit) : null;
  const next = d.offset + d.rows.length < d.total ? d.offset + d.rows.length : null;
  return html`<h1>${d.repository}</h1>
<p class="muted">${d.total} backlog rows, ranked. ${d.canWrite ? "" : "You can read this repository; starting work needs write access."}</p>
<table id="backlog"><tr><th class="num">#</th><th class="num">Score</th><th>Finding</th><th>Where</th><th>Task</th><th></th></tr>
${d.rows.map(
  (r) => html`<tr data-finding="${r.findingId}"><td class="num">${r.rank}</td><td class="num">${r.score}</td>
<td><span class="muted">${r.kind}</span> ${r.title}<ul class="breakdown">${r.breakdown.map((p) => html`<li>${p.points >= 0 ? "+" : ""}${p.points} ${p.signal}: ${p.reason}</li>`)}</ul></td>
<td>${location(r)}</td><td>${r.task ? html`<a href="/tasks/${r.task.id}">#${r.task.id}</a> ${taskState(r.task.state)}` : ""}</td><td>${actions(r, d)}</td></tr>`,
)}</table>
<nav class="pages">${prev !== null ? html`<a href="?cursor=${prev}">← previous</a>` : ""}${next !== null ? html`<a href="?cursor=${next}">next →</a>` : ""}</nav>`;
}
