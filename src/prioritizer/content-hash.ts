import { createHash } from "node:crypto";
import type { FindingSignals } from "../scanners/types.js";

/** What of a finding counts as its content: its text, and for a failing check its output. */
export interface ContentInput {
  kind: string;
  title: string;
  body: string | null;
  /** Stored JSON or parsed signals; only the check output (`annotations`, `logExcerpt`) counts. */
  signals: string | FindingSignals;
}

/**
 * A hex sha256 of a finding's content: its kind, text (title and body) and, for a failing check,
 * its annotations and log excerpt. Location, age and reactions are left out: a TODO that moved or
 * aged is the same work. Autopilot does not pick a finding whose last task failed or changed
 * nothing until this changes (issue 9). Pure; never throws (unparsable signals count as none).
 */
export function contentHash(finding: ContentInput): string {
  let signals: FindingSignals = {};
  try {
    signals = typeof finding.signals === "string" ? (JSON.parse(finding.signals) as FindingSignals) : finding.signals;
  } catch {
    signals = {};
  }
  const output = finding.kind === "failing_check" ? [...(signals.annotations ?? []), signals.logExcerpt ?? ""].join("\n") : "";
  return createHash("sha256")
    .update(`${finding.kind}\0${finding.title}\0${finding.body ?? ""}\0${output}`)
    .digest("hex");
}
