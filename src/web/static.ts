/**
 * The one script of the dashboard, served as /static/live.js (a file, not inline, so the
 * Content-Security-Policy can forbid inline script). On a task page it follows
 * `/api/v1/events?task=ID` and updates the state, the PR link and the live transcript in place.
 * Text from events is set with textContent only, never as HTML.
 */
export const LIVE_JS = `"use strict";
(() => {
  const task = document.getElementById("task");
  if (!task) return;
  const live = document.getElementById("live");
  const add = (cls, title, text, collapsed) => {
    const box = document.createElement(collapsed ? "details" : "div");
    box.className = collapsed ? "tool" : "msg " + cls;
    const head = document.createElement(collapsed ? "summary" : "b");
    head.textContent = title;
    box.append(head);
    const body = document.createElement(collapsed ? "pre" : "span");
    body.textContent = (collapsed ? "" : "\\n") + text;
    box.append(body);
    live.append(box);
  };
  const source = new EventSource("/api/v1/events?task=" + encodeURIComponent(task.dataset.taskId));
  source.addEventListener("task", (message) => {
    const e = JSON.parse(message.data);
    for (const el of task.querySelectorAll("[data-state]")) {
      el.textContent = e.state;
      el.className = "state " + e.state;
    }
    if (e.prUrl) {
      const pr = document.getElementById("pr");
      const link = document.createElement("a");
      link.href = e.prUrl;
      link.textContent = "pull request";
      pr.replaceChildren(link);
    }
    if (e.error) document.getElementById("error").textContent = e.error;
    if (e.state !== "queued" && e.state !== "running") {
      for (const form of task.querySelectorAll('form[action$="/cancel"]')) form.remove();
    }
    add("system", "state", e.state, false);
  });
  source.addEventListener("run", (message) => {
    const e = JSON.parse(message.data);
    add("system", "run " + e.runId, e.agent + (e.outcome ? " · " + e.outcome : " started"), false);
  });
  source.addEventListener("transcript", (message) => {
    const e = JSON.parse(message.data).event;
    if (e.kind === "message") add(e.role, e.role, e.text, false);
    else if (e.kind === "tool_call") add("", "🔧 " + e.name, e.input, true);
    else if (e.kind === "tool_result") add("", e.isError ? "✗ tool error" : "↳ result", e.output, true);
    else if (e.kind === "result") add("system", "result", e.text, false);
    else add("system", "output", e.text, false);
  });
})();
`;
