import { fence } from "./sanitize.js";

/** Every tag the prompt fences data in; data may contain none of them unescaped. */
export const SECTION_TAGS = [
  "issue_title",
  "issue_body",
  "issue_comment",
  "maintainer_instructions",
  "todo_finding",
  "failing_check",
  "check_output",
  "ci_log",
  "pull_request",
  "diff_summary",
  "review",
  "review_comment",
  "earlier_round",
  "previous_summary",
  "verify_failure",
  "repository_instructions",
] as const;

/** A section tag. */
export type SectionTag = (typeof SECTION_TAGS)[number];

/** Caps (characters, after sanitising) that keep one noisy source from crowding out the rest. */
export const LIMITS = {
  title: 300,
  body: 20_000,
  comment: 4_000,
  comments: 24_000,
  instructions: 2_000,
  code: 8_000,
  repositoryFile: 8_000,
  annotations: 6_000,
  checkOutput: 4_000,
  review: 8_000,
  reviewComment: 2_000,
  reviewComments: 16_000,
  diffSummary: 6_000,
  round: 2_000,
} as const;

/** `text` cut to `max` characters, saying so. */
export function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n[... truncated]`;
}

/** Fences sanitised data in one of the prompt's sections (see sanitize.ts `fence`). */
export const section = (tag: SectionTag, data: string, attributes: Record<string, string | number> = {}): string =>
  fence(tag, data, SECTION_TAGS, attributes);
