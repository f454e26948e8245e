import type { Writable } from "node:stream";
import { type BacklogItem, BacklogRow, type Ranked } from "../prioritizer/index.js";
import { terminalText } from "../util/invisible.js";

/** Widest text column in the table (characters); longer text is cut with an ellipsis. */
const TEXT_WIDTH = 70;
/** Widest location; a longer path loses its start, never its line number. */
const LOCATION_WIDTH = 60;
const REPO_WIDTH = 30;

/** One line of terminal text (`terminalText`): untrusted text from the repository or GitHub. */
function oneLine(text: string): string {
  return terminalText(text).replace(/\s+/g, " ").trim();
}

/** Cuts the end: for prose. */
function cut(text: string, width: number): string {
  const line = oneLine(text);
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** Cuts the start: for paths and names, whose end says the most (`…/scanners/todo.ts:42`). */
function cutStart(text: string, width: number): string {
  const line = oneLine(text);
  return line.length > width ? `…${line.slice(line.length - width + 1)}` : line;
}

/** Where a finding is: `path:line`, `#issue`, or its URL. */
export function location(item: Pick<BacklogItem, "path" | "line" | "issue_number" | "url">): string {
  if (item.path) return item.line ? `${item.path}:${item.line}` : item.path;
  if (item.issue_number !== null) return `#${item.issue_number}`;
  return item.url ?? "";
}

/** Repository id -> name, for the REPO column and the JSON rows. */
export type RepositoryNames = ReadonlyMap<number, string>;

/**
 * The backlog as a plain-text table: rank, score, kind, repository, marker, location, first line of
 * text (`(×n)` when the row stands for n identical findings). `items` are the rows to show;
 * `total` is how many rows the whole backlog has (for the "and n more" line).
 */
export function formatTable(items: readonly Ranked<BacklogItem>[], names: RepositoryNames, total = items.length): string {
  if (total === 0) return "The backlog is empty: no open findings.";
  const rows = items.map((i) => {
    const count = i.group?.count ?? 1;
    return [
      String(i.rank),
      String(i.score),
      i.kind,
      cutStart(names.get(i.repository_id) ?? String(i.repository_id), REPO_WIDTH),
      i.signals.marker ?? "",
      cutStart(location(i), LOCATION_WIDTH),
      count > 1 ? `${cut(i.title, TEXT_WIDTH - String(count).length - 4)} (×${count})` : cut(i.title, TEXT_WIDTH),
    ];
  });
  const header = ["RANK", "SCORE", "KIND", "REPO", "MARKER", "LOCATION", "TEXT"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
      .join("  ")
      .trimEnd();
  const more = total > items.length ? `\n… and ${total - items.length} more (--limit to show more, --json for all)` : "";
  return `${[line(header), ...rows.map(line)].join("\n")}${more}`;
}

/** One backlog row as `--json` prints it: every field, the signals parsed, and the score's breakdown. */
function jsonRow(i: Ranked<BacklogItem>, names: RepositoryNames) {
  return {
    rank: i.rank,
    score: i.score,
    breakdown: i.breakdown,
    kind: i.kind,
    repository: names.get(i.repository_id) ?? null,
    title: i.title,
    location: location(i),
    path: i.path,
    line: i.line,
    url: i.url,
    issueNumber: i.issue_number,
    fingerprint: i.fingerprint,
    // A BacklogRow knows its count without building its group (locations, fingerprints) just to count it.
    count: i instanceof BacklogRow ? i.count : (i.group?.count ?? 1),
    signals: i.signals,
    firstSeenAt: i.first_seen_at,
    lastSeenAt: i.last_seen_at,
  };
}

/**
 * Writes the backlog as one JSON array, a row per line, as it goes: each row is built and
 * serialised once and written with back-pressure, so memory does not grow with the output.
 */
export async function writeJson(items: Iterable<Ranked<BacklogItem>>, names: RepositoryNames, out: Writable): Promise<void> {
  const write = (text: string): Promise<void> | undefined =>
    out.write(text) ? undefined : new Promise((resolve) => out.once("drain", () => resolve()));
  let chunk = "[";
  let first = true;
  for (const item of items) {
    chunk += `${first ? "\n" : ",\n"}${JSON.stringify(jsonRow(item, names))}`;
    first = false;
    if (chunk.length >= 64 * 1024) {
      await write(chunk);
      chunk = "";
    }
  }
  await write(`${chunk}${first ? "]\n" : "\n]\n"}`);
}
