import { createHash } from "node:crypto";
import type { FindingSignals } from "../scanners/types.js";

/** What of a finding counts as its content: its text, and for a failing check its output. */
export interface ContentInput {
  kind: string;
  title: string;
  body: string | null;
  /** Stored JSON or parsed signals; only the check output (`annotations`, `logExcerpt`) and `headSha` count. */
  signals: string | FindingSignals;
}

/** Shortest commit abbreviation git prints (`core.abbrev` default). */
const MIN_SHA = 7;
/** A UUID (GitHub Actions' temporary directories, run ids in paths). */
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
/** A hex run of 7 to 40 characters with a digit and a letter: a commit id (full or abbreviated), not a word or a number. */
const HEX_ID = /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b/gi;
/** A duration as test runners print it: `0.12s`, `35 ms`, `Time: 4.1 s`, `(2 minutes)`. */
const DURATION = /\b\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s|sec|secs|seconds?|m|min|mins|minutes?)\b/g;
/** A clock time, as vitest's `Start at 05:17:43` prints it. */
const CLOCK = /\b\d{1,2}:\d\d:\d\d(?:\.\d+)?\b/g;

/**
 * A failing check's text with what differs between two runs of the same failure replaced by
 * placeholders: the commit it failed on (`headSha`, and any prefix of it from 7 characters, even
 * all digits), other commit ids and UUIDs, durations and clock times. Failing test names, error
 * lines, paths and line numbers stay, so a different failure still reads differently.
 */
export function normalizeCheckOutput(text: string, headSha?: string): string {
  let out = text;
  const sha = headSha?.toLowerCase() ?? "";
  if (/^[0-9a-f]{7,}$/.test(sha)) {
    // Longest prefix first: the full id, then its abbreviations down to 7 characters.
    const prefixes = Array.from({ length: sha.length - MIN_SHA + 1 }, (_, i) => sha.slice(0, sha.length - i));
    out = out.replace(new RegExp(`\\b(?:${prefixes.join("|")})\\b`, "gi"), "<sha>");
  }
  return out.replace(UUID, "<uuid>").replace(HEX_ID, "<sha>").replace(CLOCK, "<time>").replace(DURATION, "<duration>");
}

/**
 * A hex sha256 of a finding's content: its kind, text (title and body) and, for a failing check,
 * its annotations and log excerpt. Location, age and reactions are left out: a TODO that moved or
 * aged is the same work. A stale issue's body only says its age (`Open for 90 days; no activity
 * for 40 days.`, src/scanners/stale.ts), so its hash is its kind and title: with the body, it
 * changed every day, and autopilot started the same stale issue again daily after a failed task. A failing check's body, annotations and log are compared after
 * `normalizeCheckOutput`, so the same failure at a new commit (the body says `failure on main at
 * <sha>`) keeps its hash, while other failing tests or error lines change it. Autopilot does not
 * pick a finding whose last task failed or changed nothing until this changes (issue 9). Pure;
 * never throws (unparsable signals count as none).
 */
export function contentHash(finding: ContentInput): string {
  let signals: FindingSignals = {};
  try {
    signals = typeof finding.signals === "string" ? (JSON.parse(finding.signals) as FindingSignals) : finding.signals;
  } catch {
    signals = {};
  }
  const check = finding.kind === "failing_check";
  const output = check ? [...(signals.annotations ?? []), signals.logExcerpt ?? ""].join("\n") : "";
  const body = finding.kind === "stale_issue" ? "" : (finding.body ?? "");
  const text = check
    ? `${normalizeCheckOutput(body, signals.headSha)}\0${normalizeCheckOutput(output, signals.headSha)}`
    : `${body}\0${output}`;
  return createHash("sha256").update(`${finding.kind}\0${finding.title}\0${text}`).digest("hex");
}
