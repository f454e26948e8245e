import type { FetchedFinding, RepositoryInstructions } from "./fetch.js";
import type { FetchedCheck } from "./fetch-check.js";
import type { FetchedComment, IssueAtTrigger } from "./fetch-issue.js";
import type { FetchedReview } from "./fetch-pull.js";
import { formatWork } from "./format-work.js";
import { sanitizeCode, sanitizeUntrusted } from "./sanitize.js";
import { cap, LIMITS, section } from "./section.js";
import type { RoundRecord, VerificationFailure } from "./sources.js";

export { LIMITS, SECTION_TAGS, type SectionTag } from "./section.js";

/** Everything a prompt is formatted from, fetched and raw. All text is untrusted. */
export interface FormatInput {
  issue?: IssueAtTrigger;
  comments?: FetchedComment[];
  /** The maintainer's words after `/agent fix`. */
  instructions?: string | null;
  finding?: FetchedFinding;
  check?: FetchedCheck;
  pullRequest?: { number: number; title?: string; diffSummary?: string };
  review?: FetchedReview;
  earlierRounds?: RoundRecord[];
  verification?: { round: number; maxRounds: number; previousSummary: string | null; failure: VerificationFailure };
  repositoryInstructions?: RepositoryInstructions;
}

/** Comments newest first against the budget, so the latest word of the maintainers survives truncation. */
function formatComments(comments: FetchedComment[]): string[] {
  const out: string[] = [];
  let budget: number = LIMITS.comments;
  for (const comment of [...comments].reverse()) {
    const text = cap(sanitizeUntrusted(comment.body), LIMITS.comment);
    if (!text || budget - text.length < 0) continue;
    budget -= text.length;
    out.unshift(section("issue_comment", text, { author: comment.author }));
  }
  return out;
}

function formatIssue(issue: IssueAtTrigger): string[] {
  const body = issue.withheld ? `[body withheld: ${issue.withheld}]` : cap(sanitizeUntrusted(issue.body), LIMITS.body);
  return [
    section("issue_title", cap(sanitizeUntrusted(issue.title), LIMITS.title), { number: issue.number }),
    section("issue_body", body, { number: issue.number }),
  ];
}

function formatFinding(finding: FetchedFinding): string {
  const body = `${sanitizeUntrusted(finding.title)}\n\n${cap(sanitizeCode(finding.code), LIMITS.code)}`;
  const attributes: Record<string, string | number> = { path: finding.path, line: finding.line, first_line_shown: finding.startLine };
  if (finding.author) attributes.line_author = finding.author;
  if (finding.authoredAt) attributes.line_date = finding.authoredAt;
  return section("todo_finding", body, attributes);
}

/**
 * Formats the untrusted material into fenced sections, each sanitised and capped: issue title and
 * body, write-access comments, the maintainer's instructions, the code around a finding, a failing
 * check, a pull request's review and diff, earlier rounds and failing verification (format-work.ts),
 * and the repository's own instruction files. Pure: no I/O.
 */
export function formatSections(input: FormatInput): string[] {
  const sections: string[] = [];
  if (input.issue) sections.push(...formatIssue(input.issue));
  sections.push(...formatComments(input.comments ?? []));
  const instructions = input.instructions ? cap(sanitizeUntrusted(input.instructions), LIMITS.instructions) : "";
  if (instructions) sections.push(section("maintainer_instructions", instructions));
  if (input.finding) sections.push(formatFinding(input.finding));
  sections.push(...formatWork(input));
  for (const file of input.repositoryInstructions ?? []) {
    const text = cap(sanitizeUntrusted(file.text), LIMITS.repositoryFile);
    if (text) sections.push(section("repository_instructions", file.truncated ? `${text}\n[... truncated]` : text, { path: file.path }));
  }
  return sections;
}
