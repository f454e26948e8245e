/**
 * Markdown helpers for the dashboard. Finding text is untrusted (code comments, issue titles): it
 * must not format, link, ping (`@team`), reference issues, or forge a checkbox or marker.
 */
import { INVISIBLE } from "../util/invisible.js";

/** Characters with a Markdown or HTML meaning, backslash-escaped (CommonMark: any ASCII punctuation may be). */
const PUNCTUATION = /[\\`*_{}[\]()<>#+!|~&]/g;

/** The first line of untrusted text, without the characters `INVISIBLE` lists (bidi overrides reorder what a reader sees), spaces collapsed. */
function firstLine(text: string): string {
  return (text.replace(INVISIBLE, "").split("\n")[0] ?? "").replace(/\s+/g, " ").trim();
}

/**
 * One line of untrusted text, safe in a list item: first line only (`firstLine`), at most `max`
 * characters, Markdown punctuation escaped, and a zero-width space after `@` and `#` so GitHub
 * links no user, team or issue (backslash escapes do not stop its autolinks).
 */
export function inlineText(text: string, max = 100): string {
  const first = firstLine(text);
  const cut = first.length > max ? `${first.slice(0, max - 1)}…` : first;
  return cut.replace(PUNCTUATION, "\\$&").replace(/([@#])/g, "$1\u200b");
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * One line of untrusted text inside raw HTML (the `<details>` of a backlog row): as `inlineText`,
 * but HTML-escaped, since CommonMark parses no Markdown, and so honours no backslash escape, in an
 * HTML block (https://spec.commonmark.org/0.31.2/#html-blocks). GitHub still links mentions and
 * issue references in its text, hence the zero-width spaces.
 */
export function htmlText(text: string, max = 100): string {
  const first = firstLine(text);
  const cut = first.length > max ? `${first.slice(0, max - 1)}…` : first;
  return cut.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string).replace(/([@#])/g, "$1\u200b");
}

/** A link inside raw HTML: `<a href="url">label</a>`, the label escaped as `htmlText`, the URL as an attribute. */
export function htmlLink(text: string, url: string): string {
  return `<a href="${url.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string)}">${htmlText(text, 80)}</a>`;
}

/** A link label from a path, escaped like text. */
export function label(text: string): string {
  return inlineText(text, 80);
}

/**
 * A URL component percent-encoded, parentheses too: `encodeURIComponent` leaves `(` and `)`, and
 * an unbalanced one ends a Markdown link's destination early (`[a](…/a).ts)`).
 */
function component(text: string): string {
  return encodeURIComponent(text).replace(/[()]/g, (c) => (c === "(" ? "%28" : "%29"));
}

/** `https://github.com/owner/name/blob/<ref>/<path>#L<line>`, each path segment URL-encoded. */
export function codeUrl(repo: string, ref: string, path: string, line?: number | null): string {
  const encoded = path.split("/").map(component).join("/");
  return `https://github.com/${repo}/blob/${component(ref)}/${encoded}${line ? `#L${line}` : ""}`;
}

/** `https://github.com/owner/name/pull/<n>`. */
export function pullUrl(repo: string, pr: number): string {
  return `https://github.com/${repo}/pull/${pr}`;
}

/**
 * Untrusted text as an inline code span: backslash escapes do not work inside one, so backticks
 * and line breaks are removed instead; at most `max` characters.
 */
export function codeSpan(text: string, max = 60): string {
  const clean = text
    .replace(/[`\r\n]+/g, " ")
    .trim()
    .slice(0, max);
  return `\`${clean || " "}\``;
}

/** `https://github.com/owner/name/issues/<n>` (GitHub redirects to the pull request when it is one). */
export function issueUrl(repo: string, issue: number): string {
  return `https://github.com/${repo}/issues/${issue}`;
}

/**
 * Elapsed time in coarse steps (5 minutes under an hour, hours under two days, then days), so
 * that re-rendering a minute later usually gives the same body and the edit is skipped.
 */
export function elapsed(fromIso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(fromIso);
  if (!Number.isFinite(ms) || ms < 0) return "just now";
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 5) return "under 5 min";
  if (minutes < 60) return `${Math.floor(minutes / 5) * 5} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} days`;
}

/** The date part of an ISO time (`2026-12-03`), stable within a day. */
export function day(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : "never";
}
