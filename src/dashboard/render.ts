import type { BacklogItem, Ranked, ScorePart } from "../prioritizer/index.js";
import { codeSpan, codeUrl, day, elapsed, htmlLink, htmlText, inlineText, issueUrl, label, pullUrl } from "./markdown.js";
import { checkbox } from "./ticks.js";
import type { DashboardLimits, DashboardState, DashboardTask } from "./types.js";

/** The hidden marker that identifies the dashboard issue among a repository's issues. */
export const DASHBOARD_MARKER = "<!-- backlog-bot:dashboard -->";
/** GitHub's issue body limit (characters): https://docs.github.com/en/rest/issues/issues#create-an-issue ("body" over it is a 422). */
export const MAX_BODY = 65_536;
/** Items listed per task section before "and N more", before any size cut. */
const SECTION_CAP = 50;
/** Merged/closed tasks listed. */
const RECENT_CAP = 10;

interface Section {
  title: string;
  intro?: string;
  items: string[];
  cap: number;
  empty: string;
  more: (n: number) => string;
}

/** The score's parts, for the raw HTML of a row's `<details>`. */
function breakdownHtml(parts: readonly ScorePart[]): string {
  return parts.map((p) => `${p.points >= 0 ? "+" : "−"}${Math.abs(p.points)} ${htmlText(p.reason, 120)}`).join(" · ");
}

/** A character percent-encoded (`(` is `%28`): for the few a stored URL may hold that end a Markdown link. */
const percent = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;

/** Where a finding is, as a label and a link (undefined: nowhere to link to). */
function target(repo: string, ref: string, item: BacklogItem): { text: string; url: string } | undefined {
  if (item.path) return { text: item.line ? `${item.path}:${item.line}` : item.path, url: codeUrl(repo, ref, item.path, item.line) };
  if (item.issue_number !== null) return { text: `#${item.issue_number}`, url: issueUrl(repo, item.issue_number) };
  if (item.url?.startsWith("https://"))
    return { text: item.kind === "failing_check" ? "check" : "link", url: item.url.replace(/[()\s<>]/g, percent) };
  return undefined;
}

/** `target` as a Markdown link. */
function where(repo: string, ref: string, item: BacklogItem): string {
  const t = target(repo, ref, item);
  if (!t) return "";
  return `[${item.path ? label(t.text) : t.text}](${t.url})`;
}

function backlogRow(state: DashboardState, row: Ranked<BacklogItem>, position: number): string {
  const count = row.group.count > 1 ? ` ×${row.group.count}` : "";
  const also = row.group.locations
    .filter((l) => l.fingerprint !== row.fingerprint)
    .slice(0, 4)
    .map((l) => target(state.repo, state.ref, l as BacklogItem))
    .filter((t) => t !== undefined)
    .map((t) => htmlLink(t.text, t.url));
  const alsoText = also.length ? ` Also at ${also.join(", ")}${row.group.count > also.length + 1 ? ", …" : ""}.` : "";
  // The `<details>` line starts an HTML block, which CommonMark ends only at a blank line or with
  // the list item (https://spec.commonmark.org/0.31.2/#html-blocks): it comes last, so it holds no
  // Markdown (its text is HTML-escaped) and swallows no checkbox.
  return [
    `${checkbox("start", row.id)} **${position}** \`${row.kind}\` ${where(state.repo, state.ref, row)} ${inlineText(row.title)}${count}`,
    `  ${checkbox("dismiss", row.id)} dismiss`,
    `  <details><summary>score ${row.score}</summary>${breakdownHtml(row.breakdown)}.${alsoText}</details>`,
  ].join("\n");
}

function taskLink(state: DashboardState, task: DashboardTask): string {
  const title = inlineText(task.title, 80);
  if (task.issueNumber !== null) return `[${title}](${issueUrl(state.repo, task.issueNumber)})`;
  return title;
}

function by(task: DashboardTask): string {
  return task.trigger === "autopilot"
    ? `autopilot${task.note ? ` (${inlineText(task.note, 80)})` : ""}`
    : `@\u200b${inlineText(task.requestedBy, 40)}`;
}

function progressRow(state: DashboardState, task: DashboardTask): string {
  const agent = task.agent ? ` · agent ${codeSpan(task.agent)}` : "";
  const time = task.state === "queued" ? `waiting ${elapsed(task.createdAt, state.now)}` : `running ${elapsed(task.updatedAt, state.now)}`;
  return `- ${task.state} · ${taskLink(state, task)}${agent} · ${time} · asked by ${by(task)}`;
}

function pullRow(state: DashboardState, task: DashboardTask): string {
  const pr = task.prNumber !== null ? `[#${task.prNumber}](${pullUrl(state.repo, task.prNumber)})` : "PR";
  const verification = task.verification ? ` · ${inlineText(task.verification, 120)}` : "";
  const agent = task.agent ? ` · agent ${codeSpan(task.agent)}` : "";
  return `- ${pr} draft · ${inlineText(task.title, 80)}${agent}${verification}`;
}

function attentionRow(state: DashboardState, task: DashboardTask): string {
  const reason = task.error ? ` — ${inlineText(task.error, 160)}` : task.state === "no_changes" ? " — the agent changed nothing" : "";
  const lines =
    task.state === "failed" || task.state === "no_changes"
      ? [`${checkbox("retry", task.id)} retry · ${task.state} · ${taskLink(state, task)}${reason}`]
      : [`- ${task.state} · ${taskLink(state, task)}${reason}`];
  if (task.findingId !== null) lines.push(`  ${checkbox("dismiss", task.findingId)} dismiss`);
  return lines.join("\n");
}

function recentRow(state: DashboardState, task: DashboardTask): string {
  const pr = task.prNumber !== null ? ` [#${task.prNumber}](${pullUrl(state.repo, task.prNumber)})` : "";
  return `- ${task.state}${pr} · ${inlineText(task.title, 80)} · ${day(task.updatedAt)}`;
}

function limitLines(limits: DashboardLimits | undefined): string[] {
  if (!limits) return [];
  const lines: string[] = [];
  // 0 means no limit, as in Renovate.
  const full = (used: number, max: number) => (max > 0 && used >= max ? " — **full**: new pull requests wait" : "");
  const of = (max: number) => (max > 0 ? `of ${max}` : "(no limit)");
  if (limits.prConcurrentLimit !== undefined && limits.openPullRequests !== undefined) {
    lines.push(
      `- Open draft pull requests: ${limits.openPullRequests} ${of(limits.prConcurrentLimit)} (\`prConcurrentLimit\`)${full(limits.openPullRequests, limits.prConcurrentLimit)}`,
    );
  }
  if (limits.prHourlyLimit !== undefined && limits.pullRequestsLastHour !== undefined) {
    lines.push(
      `- Pull requests opened in the last hour: ${limits.pullRequestsLastHour} ${of(limits.prHourlyLimit)} (\`prHourlyLimit\`)${full(limits.pullRequestsLastHour, limits.prHourlyLimit)}`,
    );
  }
  if (limits.maxRunsPerDay !== undefined && limits.runsToday !== undefined) {
    lines.push(`- Agent runs in the last 24 hours: ${limits.runsToday} ${of(limits.maxRunsPerDay)} (\`dailyRunLimit\`)`);
  }
  if (limits.maxCostUsdPerDay !== undefined && limits.costTodayUsd !== undefined) {
    lines.push(
      `- Agent cost today, all repositories: $${limits.costTodayUsd.toFixed(2)} of $${limits.maxCostUsdPerDay.toFixed(2)} (daily budget)`,
    );
  }
  if (limits.heldBack)
    lines.push(`- **${limits.heldBack}** queued task${limits.heldBack === 1 ? " is" : "s are"} held back by these limits.`);
  return lines;
}

function renderSections(sections: readonly Section[]): string {
  return sections
    .map((s) => {
      const shown = s.items.slice(0, s.cap);
      const rest = s.items.length - shown.length;
      const body = shown.length ? shown.join("\n") : s.empty;
      return [`## ${s.title}`, ...(s.intro ? [s.intro] : []), "", body, ...(rest > 0 ? ["", s.more(rest)] : [])].join("\n");
    })
    .join("\n\n");
}

/**
 * The dashboard issue body: a pure function of `state` (same state, same text), within GitHub's
 * 65,536-character limit — the longest sections are cut with an "and N more" line until it fits.
 * Untrusted text is escaped (markdown.ts); every checkbox carries a hidden id that `readTicks` reads.
 */
export function renderDashboard(state: DashboardState): string {
  const active = new Set(
    state.tasks.filter((t) => ["queued", "running", "pr_open"].includes(t.state) && t.findingId !== null).map((t) => t.findingId),
  );
  const backlog = state.backlog.filter((row) => !active.has(row.id));
  const byTime = (a: DashboardTask, b: DashboardTask) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : b.id - a.id);
  const tasks = [...state.tasks].sort(byTime);
  const of = (...states: string[]) => tasks.filter((t) => states.includes(t.state));
  const header = [
    DASHBOARD_MARKER,
    "This issue is backlog-bot's view of the work in this repository: what it found, ranked, and what its agents are doing. Tick a box to start an agent on a row, retry a failed one, or dismiss a row for good; only people with write access can. backlog-bot keeps this body up to date — edits other than ticks are overwritten.",
    ...(state.configError
      ? [
          "",
          "> [!WARNING]",
          `> \`.github/backlog-bot.yml\` is invalid, so the last valid config stays in force: ${inlineText(state.configError, 300)}`,
        ]
      : []),
  ].join("\n");
  const sections: Section[] = [
    {
      title: "Ranked backlog",
      intro: `Top ${Math.min(state.limit, backlog.length)} of ${backlog.length} open rows · last scan ${day(state.lastScanAt)} · tick a row to start an agent on it.`,
      items: backlog.map((row, i) => backlogRow(state, row, i + 1)),
      cap: state.limit,
      empty: "_Nothing found: no open findings._",
      more: (n) => `…and ${n} more (\`backlog-bot backlog --repo ${state.repo}\` lists them all).`,
    },
    section(
      "In progress",
      of("queued", "running").map((t) => progressRow(state, t)),
      SECTION_CAP,
    ),
    section(
      "Pull requests",
      of("pr_open").map((t) => pullRow(state, t)),
      SECTION_CAP,
    ),
    section(
      "Needs attention",
      of("failed", "no_changes", "cancelled").map((t) => attentionRow(state, t)),
      SECTION_CAP,
    ),
    section(
      "Recently merged / closed",
      of("merged", "closed").map((t) => recentRow(state, t)),
      RECENT_CAP,
    ),
    section("Limits", limitLines(state.limits), SECTION_CAP, "_Nothing is held back._"),
  ];
  const autopilot = state.autopilot?.enabled
    ? `Autopilot is on${state.autopilot.schedule ? ` (${codeSpan(state.autopilot.schedule)})` : ""}: ${state.autopilot.startedToday} of ${state.autopilot.maxTasksPerDay} tasks started today.`
    : "Autopilot is off.";
  const footer = ["---", autopilot, "", `${checkbox("rescan")} Rescan this repository now`].join("\n");
  const build = () => `${header}\n\n${renderSections(sections)}\n\n${footer}\n`;
  let body = build();
  while (body.length > MAX_BODY) {
    const widest = sections.reduce((a, b) => (Math.min(b.cap, b.items.length) > Math.min(a.cap, a.items.length) ? b : a));
    const shown = Math.min(widest.cap, widest.items.length);
    if (shown === 0) break;
    widest.cap = Math.floor(shown / 2);
    body = build();
  }
  return body;
}

function section(title: string, items: string[], cap: number, empty = "_None._"): Section {
  return { title, items, cap, empty, more: (n) => `…and ${n} more.` };
}
