import type { AuditEntry } from "../../store/audit.js";
import { html, type SafeHtml } from "./html.js";

/** The audit log, newest first, with a link to the next page. */
export function auditPage(items: AuditEntry[], nextBefore: number | null): SafeHtml {
  return html`<h1>Audit log</h1><table id="audit"><tr><th>When</th><th>Who</th><th>What</th><th>Where</th><th>On</th><th>Outcome</th></tr>
${items.map((a) => html`<tr><td>${a.at}</td><td>${a.actor}</td><td>${a.action}</td><td>${a.repository ?? ""}</td><td>${a.target ?? ""}</td><td class="${a.outcome === "ok" ? "" : "err"}">${a.outcome}</td></tr>`)}</table>
${nextBefore !== null ? html`<nav class="pages"><a href="?cursor=${nextBefore}">older →</a></nav>` : ""}`;
}
