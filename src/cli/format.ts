import type { BacklogItem, Ranked } from "../prioritizer/index.js";

/** Widest text column in the table (characters); longer text is cut with an ellipsis. */
const TEXT_WIDTH = 70;

function cut(text: string, width: number): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > width ? `${oneLine.slice(0, width - 1)}…` : oneLine;
}

/** Where a finding is: `path:line`, `#issue`, or its URL. */
export function location(item: Pick<BacklogItem, "path" | "line" | "issue_number" | "url">): string {
  if (item.path) return item.line ? `${item.path}:${item.line}` : item.path;
  if (item.issue_number !== null) return `#${item.issue_number}`;
  return item.url ?? "";
}

/** The backlog as a plain-text table: rank, score, kind, location, first line of text. */
export function formatTable(items: readonly Ranked<BacklogItem>[], limit = Number.POSITIVE_INFINITY): string {
  if (items.length === 0) return "The backlog is empty: no open findings.";
  const rows = items.slice(0, limit).map((i) => [String(i.rank), String(i.score), i.kind, cut(location(i), 60), cut(i.title, TEXT_WIDTH)]);
  const header = ["RANK", "SCORE", "KIND", "LOCATION", "TEXT"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
      .join("  ")
      .trimEnd();
  const more = items.length > limit ? `\n… and ${items.length - limit} more (--limit to show more, --json for all)` : "";
  return `${[line(header), ...rows.map(line)].join("\n")}${more}`;
}

/** The backlog as JSON: every field, the signals parsed, and the score's breakdown. */
export function formatJson(items: readonly Ranked<BacklogItem>[]): string {
  return JSON.stringify(
    items.map((i) => ({
      rank: i.rank,
      score: i.score,
      breakdown: i.breakdown,
      kind: i.kind,
      title: i.title,
      location: location(i),
      path: i.path,
      line: i.line,
      url: i.url,
      issueNumber: i.issue_number,
      fingerprint: i.fingerprint,
      signals: i.signals,
      firstSeenAt: i.first_seen_at,
      lastSeenAt: i.last_seen_at,
    })),
    null,
    2,
  );
}
