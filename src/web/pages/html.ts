import { INVISIBLE } from "../../util/invisible.js";

/** HTML that is already safe (built by `html` or trusted markup); anything else is escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * `text` as HTML text or an attribute value: `& < > " '` as entities, and the characters
 * `INVISIBLE` lists dropped (a bidi override in a title makes the page show other words than the
 * ones there; control characters are an agent's terminal colours at best).
 */
export function escapeHtml(text: string): string {
  return text.replace(INVISIBLE, "").replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

type Value = SafeHtml | string | number | boolean | null | undefined | Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map(render).join("");
  if (value instanceof SafeHtml) return value.value;
  return escapeHtml(String(value));
}

/**
 * Tagged template for HTML: every interpolated value is escaped unless it is `SafeHtml`; arrays
 * are joined; null, undefined and false render nothing. All text from GitHub and agents
 * (titles, transcripts, logins) goes through here, so a page cannot be made to run script.
 */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? "");
  });
  return new SafeHtml(out);
}

/** Marks trusted markup (built here, never from input) as safe. */
export const raw = (markup: string): SafeHtml => new SafeHtml(markup);

/** `12.3 s`, `4 min`, `2.1 h`, `3.0 d` from seconds. */
export function duration(seconds: number | null): string {
  if (seconds === null) return "–";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

export const dollars = (value: number | null): string => (value === null ? "–" : `$${value.toFixed(2)}`);
export const percent = (value: number | null): string => (value === null ? "–" : `${Math.round(value * 100)}%`);
