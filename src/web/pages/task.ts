import type { Run } from "../../store/schema.js";
import { RETRYABLE_STATES } from "../../store/task-lifecycle.js";
import type { TaskWithRepo } from "../queries.js";
import type { TranscriptEvent } from "../transcript.js";
import { dollars, html, type SafeHtml } from "./html.js";
import { taskState } from "./overview.js";

/** What the task page shows: the task, its runs, each run's parsed transcript. */
export interface TaskData {
  task: TaskWithRepo;
  runs: Array<{ run: Run; transcript: TranscriptEvent[] }>;
  canWrite: boolean;
  csrf: string;
}

/** One transcript event as part of a conversation; tool calls and results are collapsed. */
export function transcriptEvent(e: TranscriptEvent): SafeHtml {
  switch (e.kind) {
    case "message":
      return html`<div class="msg ${e.role}"><b>${e.role}</b>\n${e.text}</div>`;
    case "tool_call":
      return html`<details class="tool"><summary>🔧 ${e.name}</summary><pre>${e.input}</pre></details>`;
    case "tool_result":
      return html`<details class="tool"><summary>${e.isError ? "✗ tool error" : "↳ result"}</summary><pre>${e.output}</pre></details>`;
    case "result":
      return html`<div class="msg system${e.isError ? " err" : ""}"><b>result</b>${e.turns !== null ? ` · ${e.turns} turns` : ""}${e.costUsd !== null ? ` · ${dollars(e.costUsd)}` : ""}\n${e.text}</div>`;
    default:
      return html`<div class="text"><pre>${e.text}</pre></div>`;
  }
}

function runCard(run: Run, transcript: TranscriptEvent[], last: boolean): SafeHtml {
  const tokens =
    run.input_tokens !== null || run.output_tokens !== null ? `${run.input_tokens ?? 0} in / ${run.output_tokens ?? 0} out` : "–";
  return html`<div class="card" id="run-${run.id}"><h3>Run ${run.id} · ${run.agent} · ${run.outcome ?? "running"}</h3>
<table><tr><th>Started</th><td>${run.started_at}</td><th>Ended</th><td>${run.ended_at ?? "–"}</td></tr>
<tr><th>Turns</th><td>${run.turns ?? "–"}</td><th>Tokens</th><td>${tokens}</td></tr>
<tr><th>Cost</th><td>${dollars(run.cost_usd)}</td><th>Exit code</th><td>${run.exit_code ?? "–"}</td></tr>
<tr><th>Verification</th><td colspan="3" class="verification">${run.verification ?? "–"}</td></tr>
<tr><th>Diff</th><td colspan="3"><pre>${run.diff_stat ?? "–"}</pre></td></tr>
${run.error ? html`<tr><th>Error</th><td colspan="3" class="err"><pre>${run.error}</pre></td></tr>` : ""}</table>
<details${last ? " open" : ""}><summary>Transcript (${transcript.length} events)</summary><div class="transcript" data-run="${run.id}">${transcript.map(transcriptEvent)}</div></details></div>`;
}

/** The task page: state (updated live), PR link, request, runs with evidence and transcript, and cancel/retry for writers. */
export function taskPage(d: TaskData): SafeHtml {
  const t = d.task;
  const canCancel = d.canWrite && ["queued", "running"].includes(t.state);
  const canRetry = d.canWrite && RETRYABLE_STATES.includes(t.state);
  return html`<div id="task" data-task-id="${t.id}"><h1>Task #${t.id}: ${t.title}</h1>
<p>${taskState(t.state)} <span id="pr">${t.pr_url ? html`<a href="${t.pr_url}">pull request #${t.pr_number}</a>` : ""}</span> · <a href="/repos/${t.repository}">${t.repository}</a> · asked by @${t.requested_by} via ${t.trigger} · ${t.created_at}</p>
${t.error ? html`<p class="err" id="error">${t.error}</p>` : html`<p class="err" id="error"></p>`}
${canCancel ? html`<form class="inline" method="post" action="/api/v1/tasks/${t.id}/cancel"><input type="hidden" name="_csrf" value="${d.csrf}"><button>Cancel</button></form>` : ""}
${canRetry ? html`<form class="inline" method="post" action="/api/v1/tasks/${t.id}/retry"><input type="hidden" name="_csrf" value="${d.csrf}"><button class="primary">Retry</button></form>` : ""}
<h2>Runs</h2><div id="runs">${d.runs.length === 0 ? html`<p class="muted" id="no-runs">No run yet.</p>` : d.runs.map((r, i) => runCard(r.run, r.transcript, i === d.runs.length - 1))}</div>
<div class="card"><h3>Live</h3><div id="live" class="transcript"></div></div></div>`;
}
