import { hash } from "node:crypto";
import type { LineAuthor } from "./blame-history.js";
import { type CommentSegment, commentAt, findComments } from "./comment-lexer.js";
import type { CommentSyntax } from "./comment-syntax.js";
import type { Finding, FindingSignals } from "./types.js";

/** One marker found inside a comment, before blame and fingerprinting. */
export interface TodoHit {
  /** 1-based line of the marker. */
  line: number;
  /** The marker, upper-cased (`TODO`). */
  marker: string;
  /** `alice` in `TODO(alice): ...`. */
  owner?: string;
  /** The comment text after the marker on its line (or the next comment line when that is empty), trimmed, uncapped. */
  text: string;
  /** Following comment lines of the same comment, up to `MAX_BODY_LINES`. */
  body?: string;
}

/** A line longer than this (bytes) is generated or minified code; markers on it are ignored. */
export const MAX_LINE_LENGTH = 1000;
const MAX_BODY_LINES = 10;
/** How far past the last marker comments are lexed, so the continuation lines of its comment are known. */
const LOOKAHEAD = 4096;
const HAS_WORD = /[\p{L}\p{N}]/u;

/**
 * A global regular expression matching any of `keywords` as a whole word (no letter, digit or
 * `_` on either side), case-sensitively.
 */
export function markerPattern(keywords: readonly string[]): RegExp {
  const alternatives = keywords.map((k) => k.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  return new RegExp(`(?<![A-Za-z0-9_])(?:${alternatives.join("|")})(?![A-Za-z0-9_])`, "g");
}

/** The comment text of one line of `segment`, without delimiters, javadoc stars or surrounding space. */
function commentLineText(text: string, segment: CommentSegment, lineStart: number, lineEnd: number): string {
  const from = segment.start >= lineStart ? segment.start + segment.open.length : lineStart;
  const closeAt = segment.end - segment.close.length;
  const to = segment.end <= lineEnd ? Math.max(from, closeAt) : lineEnd;
  let line = text.slice(from, to).trim();
  if (segment.close) line = line.replace(/^\*+\s?/, "");
  return line.trim();
}

/** Decodes a Latin-1 string (one character per byte) as the UTF-8 it holds. */
function utf8(bytes: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
  return /^[\x00-\x7f]*$/.test(bytes) ? bytes : Buffer.from(bytes, "latin1").toString("utf8");
}

/**
 * Markers of `pattern` (from `markerPattern`) that sit inside comments of `text`, a whole file in
 * `syntax`, given as a Latin-1 string (one character per byte, as `readCandidateFiles` reads it:
 * every delimiter is ASCII, and decoding only what is kept is far cheaper); returned texts are
 * decoded as UTF-8, and lengths (`MAX_LINE_LENGTH`) count bytes.
 *
 * A marker that starts its comment line (`// TODO fix`) may be followed by `:`, `(owner)`, space
 * or the end of the comment; one in the middle of comment prose counts only with `:` or `(owner)`
 * right after it, so that "this works around a BUG in node" is not a task. A marker right after a
 * quote or backtick is quoted, not written, and does not count either.
 */
export function extractTodos(text: string, syntax: CommentSyntax, pattern: RegExp): TodoHit[] {
  const matches: { offset: number; marker: string }[] = [];
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) matches.push({ offset: m.index, marker: m[0] });
  const last = matches.at(-1)?.offset;
  if (last === undefined) return [];
  const segments = findComments(text, syntax, last + LOOKAHEAD);
  const single = new RegExp(pattern.source);
  const hits: TodoHit[] = [];
  let line = 1;
  let lineStart = 0;
  for (const { offset, marker } of matches) {
    for (let nl = text.indexOf("\n", lineStart); nl >= 0 && nl < offset; nl = text.indexOf("\n", lineStart)) {
      line++;
      lineStart = nl + 1;
    }
    const segment = commentAt(segments, offset);
    if (!segment) continue;
    const eol = text.indexOf("\n", offset);
    const lineEnd = eol < 0 ? text.length : eol;
    if (lineEnd - lineStart > MAX_LINE_LENGTH) continue;
    const textStart = segment.start >= lineStart ? segment.start + segment.open.length : lineStart;
    // `TODO(owner)` or "FIXME" quoted in prose mentions a marker; it is not one (a docstring's own quotes do not count).
    if (offset > textStart && "`'\"".includes(text.charAt(offset - 1))) continue;
    const leading = !HAS_WORD.test(text.slice(textStart, offset));
    const afterEnd = segment.end <= lineEnd ? Math.max(offset, segment.end - segment.close.length) : lineEnd;
    const after = text.slice(offset + marker.length, afterEnd);
    const owned = /^\(([^()\n]{0,64})\)/.exec(after);
    const rest = owned ? after.slice(owned[0].length) : after;
    const accepted = owned || rest.startsWith(":") || (leading && /^(?:[\s!.-]|$)/.test(rest));
    if (!accepted) continue;
    const lines: string[] = [];
    for (let start = lineEnd + 1; lines.length < MAX_BODY_LINES && start < text.length; ) {
      const nl = text.indexOf("\n", start);
      const end = nl < 0 ? text.length : nl;
      const raw = text.slice(start, end);
      const first = start + raw.length - raw.trimStart().length;
      const next = commentAt(segments, first);
      const sameComment = next === segment || (next && !segment.close && !next.close && next.open === segment.open && next.start === first);
      if (!next || !sameComment || single.test(raw)) break;
      const continuation = commentLineText(text, next, start, end);
      if (!continuation) break;
      lines.push(continuation);
      start = end + 1;
    }
    let title = rest.replace(/^[\s:!.-]+/, "").trim();
    if (!title) {
      // A bare heading ("TODO" over a "----" underline, as in redis's ebuckets.h) takes its first worded line.
      while (lines.length && !HAS_WORD.test(lines[0] ?? "")) lines.shift();
      title = (lines.shift() ?? "").replace(/^[\s:!.*-]+/, "");
    }
    hits.push({
      line,
      marker: utf8(marker).toUpperCase(),
      ...(owned?.[1] ? { owner: utf8(owned[1].trim()) } : {}),
      text: utf8(title),
      ...(lines.length ? { body: utf8(lines.join("\n")) } : {}),
    });
  }
  return hits;
}

/**
 * Whether `text` looks minified or generated: long enough, with lines averaging over 300
 * characters in its first 64 KiB. Such files are skipped whole.
 */
export function looksMinified(text: string): boolean {
  const sample = text.length > 65_536 ? text.slice(0, 65_536) : text;
  if (sample.length < 4096) return false;
  let lines = 1;
  for (let i = sample.indexOf("\n"); i >= 0; i = sample.indexOf("\n", i + 1)) lines++;
  return sample.length / lines > 300;
}

/** The signals of a TODO finding: the common ones plus the owner named in `TODO(owner)`. */
export interface TodoSignals extends FindingSignals {
  owner?: string;
}

const TITLE_LENGTH = 120;

/** A TODO's text as the fingerprint sees it: runs of whitespace are one space. */
function normalise(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/**
 * Stable across moves within the file: nothing here depends on the line. The one-shot `hash`
 * gives createHash's digest at a third of its cost.
 */
function fingerprint(path: string, marker: string, text: string, occurrence: number): string {
  return hash("sha1", `todo\0${path}\0${marker}\0${text}\0${occurrence}`, "hex");
}

function title(hit: TodoHit): string {
  const text = hit.text.replace(/\s+/g, " ") || hit.marker;
  return text.length > TITLE_LENGTH ? `${text.slice(0, TITLE_LENGTH - 1)}…` : text;
}

/**
 * The findings of one file's hits, in line order, with `authors` (line -> author) as signals. The
 * fingerprint survives the TODO moving within its file: path, marker, normalised text, and the
 * index among identical TODOs of that file.
 */
export function todoFindings(path: string, hits: readonly TodoHit[], authors?: ReadonlyMap<number, LineAuthor>): Finding[] {
  const occurrences = new Map<string, number>();
  const findings: Finding[] = [];
  for (const hit of hits) {
    const text = normalise(hit.text);
    const key = `${hit.marker}\0${text}`;
    const occurrence = occurrences.get(key) ?? 0;
    occurrences.set(key, occurrence + 1);
    const by = authors?.get(hit.line);
    const row: StoredTodo = [
      fingerprint(path, hit.marker, text, occurrence),
      title(hit),
      hit.line,
      hit.marker,
      hit.owner || 0,
      // A line older than the horizon may have no author; any other attributed line keeps its own, even "".
      (by?.before ? by.author || undefined : by?.author) ?? 0,
      by?.authoredAt ?? 0,
      by?.before ? 1 : 0,
    ];
    if (hit.body) row.push(hit.body);
    findings.push(todoFinding(path, row));
  }
  return findings;
}

/**
 * One TODO finding as the scan cache stores it (`src/store/attribution.ts`): `[fingerprint,
 * title, line, marker, owner, author, authoredAt, authoredBefore, body?]`, 0 for an absent
 * string (owner, author, authoredAt). Rows rather than objects, since a rescan parses every
 * stored finding of the repository.
 */
type StoredTodo = [string, string, number, string, string | 0, string | 0, string | 0, 0 | 1, string?];

/** The finding of one row; every TODO finding is built here, so stored and fresh ones have the same shape and key order. */
function todoFinding(path: string, row: StoredTodo): Finding {
  const signals: TodoSignals = { marker: row[3] };
  if (row[4] !== 0) signals.owner = row[4];
  if (row[5] !== 0) signals.author = row[5];
  if (row[6] !== 0) signals.authoredAt = row[6];
  if (row[7]) signals.authoredBefore = true;
  const body = row[8];
  return body
    ? { kind: "todo", fingerprint: row[0], title: row[1], body, path, line: row[2], signals }
    : { kind: "todo", fingerprint: row[0], title: row[1], path, line: row[2], signals };
}

/** One file's TODO findings (`todoFindings`) as stored text (JSON rows, `StoredTodo`). */
export function storedTodoFindings(findings: readonly Finding[]): string {
  const rows = findings.map((f): StoredTodo => {
    const s = f.signals as TodoSignals;
    const row: StoredTodo = [
      f.fingerprint,
      f.title,
      f.line ?? 0,
      s.marker ?? "",
      s.owner ?? 0,
      s.author ?? 0,
      s.authoredAt ?? 0,
      s.authoredBefore ? 1 : 0,
    ];
    if (f.body) row.push(f.body);
    return row;
  });
  return JSON.stringify(rows);
}

/**
 * The findings of `path` from their stored text (`storedTodoFindings`), equal to what
 * `todoFindings` built.
 * @throws SyntaxError when the text is not JSON, or not rows of that shape.
 */
export function loadTodoFindings(path: string, text: string): Finding[] {
  const rows: unknown = JSON.parse(text);
  if (!Array.isArray(rows)) throw new SyntaxError("stored TODO findings: not an array of rows");
  const findings = new Array<Finding>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row: unknown = rows[i];
    if (!Array.isArray(row) || typeof row[0] !== "string" || typeof row[1] !== "string" || typeof row[2] !== "number")
      throw new SyntaxError(`stored TODO findings: row ${i} is not [fingerprint, title, line, ...]`);
    findings[i] = todoFinding(path, row as StoredTodo);
  }
  return findings;
}
