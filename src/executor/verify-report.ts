import { redactSecrets } from "../util/logger.js";
import type { MaskingFlag } from "./masking.js";
import type { Verification } from "./verify.js";
import type { TestReport } from "./verify-parse.js";
import type { SuiteRun } from "./verify-suite.js";

/**
 * How a verification reads to people, as pure functions: one line (the same in the check run's
 * title, the PR body and the run row), the PR body's Verification section, and the check run's
 * output. Test names, flagged lines and output tails come from the repository's code: they are
 * shown only as code, with backticks and fences neutralised, and secrets redacted.
 */

/** Check run conclusions (https://docs.github.com/en/rest/checks/runs#create-a-check-run). */
export type CheckConclusion = "success" | "failure" | "neutral";

const ICON: Record<Verification["status"], string> = {
  passed: "✅",
  failed: "❌",
  no_new_failures: "⚠️",
  flagged: "🚩",
  none: "➖",
};

/** Most test names listed in one place; the rest are counted. */
const MAX_LISTED = 10;

/** Inline code for untrusted text: no backticks, no newlines, bounded. */
function code(text: string): string {
  const clean = redactSecrets(text).replace(/`/g, "ˋ").replace(/\s+/g, " ").trim().slice(0, 150);
  return `\`${clean || " "}\``;
}

/** A fenced block for untrusted output that cannot be closed from inside. */
/** Longest output line shown (characters): the repository's tests write this output, and one 200 KB line would push the PR body past GitHub's limit. */
const MAX_LINE = 500;

function fenced(text: string): string {
  const lines = redactSecrets(text)
    .replace(/```/g, "ˋˋˋ")
    .trimEnd()
    .split("\n")
    .map((line) => (line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 1)}…` : line));
  return `\`\`\`text\n${lines.join("\n")}\n\`\`\``;
}

function list(ids: readonly string[]): string {
  const shown = ids.slice(0, MAX_LISTED).map(code).join(", ");
  return ids.length > MAX_LISTED ? `${shown} and ${ids.length - MAX_LISTED} more` : shown;
}

function counts(report: TestReport | null): string | null {
  if (!report) return null;
  const parts = [
    report.passed !== null && `${report.passed} passed`,
    `${report.failed} failed`,
    report.skipped > 0 && `${report.skipped} skipped`,
  ];
  return parts.filter(Boolean).join(", ");
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The check run's conclusion: success only when verified; neutral when there was nothing to run. */
export function checkConclusion(v: Verification): CheckConclusion {
  if (v.status === "passed") return "success";
  if (v.status === "none") return "neutral";
  return "failure";
}

/** The one line: status, command, counts, exit code, duration. */
export function verificationLine(v: Verification): string {
  if (v.status === "none")
    return `${ICON.none} Not verified: no test command is configured or detected (set \`verify.command\` in \`.github/backlog-bot.yml\`).`;
  const head = v.head as SuiteRun;
  const facts = [counts(head.report), `exit ${head.timedOut ? "timeout" : (head.exitCode ?? "none")}`, seconds(head.durationMs)].filter(
    Boolean,
  );
  const verdict = v.verified ? "Verified" : v.status === "no_new_failures" ? "No new failures" : "Not verified";
  return `${ICON[v.status]} ${verdict}: ${code(v.command)} — ${v.reason} (${facts.join(", ")}).`;
}

function maskingLines(flags: readonly MaskingFlag[]): string[] {
  return flags
    .slice(0, MAX_LISTED * 2)
    .map((f) => `- ${f.kind}${f.path ? ` in ${code(`${f.path}${f.line ? `:${f.line}` : ""}`)}` : ""}: ${code(f.detail)}`);
}

/** Bullet lines shared by the PR section and the check run. */
function detailLines(v: Verification): string[] {
  const lines: string[] = [];
  if (v.base) {
    const baseFacts = [counts(v.base.report), `exit ${v.base.timedOut ? "timeout" : (v.base.exitCode ?? "none")}`]
      .filter(Boolean)
      .join(", ");
    lines.push(`- Base commit \`${v.baseSha.slice(0, 12)}\`: ${baseFacts}${v.baseCached ? " (cached result)" : ""}.`);
  }
  if (v.newFailures.length) lines.push(`- New failures: ${list(v.newFailures)}.`);
  if (v.preExistingFailures.length) lines.push(`- Failing before this change too (not caused by it): ${list(v.preExistingFailures)}.`);
  if (v.fixedFailures.length) lines.push(`- Fixed: ${list(v.fixedFailures)}.`);
  if (v.head && v.base && !v.attributed && v.status !== "passed")
    lines.push("- The test output could not be read per test, so only exit codes were compared.");
  if (v.proof?.claimed) lines.push(`- **Fails before, passes after:** ${list(v.proof.tests)} — ${v.proof.reason}.`);
  else if (v.proof) lines.push(`- Not claimed as proof: ${v.proof.reason}.`);
  if (v.masking.length)
    lines.push("- **Flagged by the anti-masking guard** (so not verified):", ...maskingLines(v.masking).map((l) => `  ${l}`));
  return lines;
}

/** The PR body's `### Verification` section. */
export function verificationSection(v: Verification): string {
  const lines = ["### Verification", "", verificationLine(v)];
  const details = detailLines(v);
  if (details.length) lines.push("", ...details);
  if (v.head && v.status !== "passed" && v.head.tail.trim()) {
    lines.push("", "<details><summary>Output (last lines)</summary>", "", fenced(v.head.tail), "", "</details>");
  }
  return lines.join("\n");
}

/** Most characters of a check run's `summary` and `text` (GitHub's documented limit is 65535). */
const MAX_CHECK_TEXT = 60_000;

/** The check run's conclusion and output: title is the line, summary the details, text the output tail. */
export function verifyCheckRunOutput(v: Verification): { conclusion: CheckConclusion; title: string; summary: string; text: string } {
  const summary = [verificationLine(v), "", ...detailLines(v), "", `Duration of the whole verification: ${seconds(v.durationMs)}.`];
  const tail = v.head?.tail.trim() ? fenced(v.head.tail) : "_No output._";
  return {
    conclusion: checkConclusion(v),
    title: verificationLine(v).replace(/`/g, "").slice(0, 250),
    summary: summary.join("\n").slice(0, MAX_CHECK_TEXT),
    text: `Command: ${code(v.command)}\n\n${tail}`.slice(0, MAX_CHECK_TEXT),
  };
}

/** The line at the top of a PR whose tests do not pass (or that masks tests), or null when there is nothing to warn about. */
export function failureHeadline(v: Verification): string | null {
  if (v.status !== "failed" && v.status !== "flagged") return null;
  const what = v.status === "flagged" ? "This change may mask tests" : "The repository's tests do not pass with this change";
  return `> [!WARNING]\n> **${what}:** ${v.reason.replace(/`/g, "ˋ")}. See Verification below; this pull request is not verified.`;
}
