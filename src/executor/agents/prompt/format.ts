import type { FetchedComment, FetchedContext } from "./fetch.js";
import { fence, sanitizeCode, sanitizeUntrusted } from "./sanitize.js";

/** Every tag the prompt fences data in; data may contain none of them unescaped. */
export const SECTION_TAGS = [
  "issue_title",
  "issue_body",
  "issue_comment",
  "maintainer_instructions",
  "todo_finding",
  "repository_instructions",
] as const;

/** Caps (characters, after sanitising) that keep one noisy source from crowding out the rest. */
export const LIMITS = {
  title: 300,
  body: 20_000,
  comment: 4_000,
  comments: 24_000,
  instructions: 2_000,
  code: 8_000,
  repositoryFile: 8_000,
} as const;

/** What the formatter needs: the fetched context plus the `/agent fix` words. All text is untrusted. */
export interface FormatInput extends Partial<FetchedContext> {
  instructions?: string | null;
}

function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n[... truncated]`;
}

const section = (tag: (typeof SECTION_TAGS)[number], data: string, attributes: Record<string, string | number> = {}): string =>
  fence(tag, data, SECTION_TAGS, attributes);

function formatComments(comments: FetchedComment[]): string[] {
  const out: string[] = [];
  let budget: number = LIMITS.comments;
  // Newest first for the budget, so the latest word of the maintainers survives truncation.
  for (const comment of [...comments].reverse()) {
    const text = cap(sanitizeUntrusted(comment.body), LIMITS.comment);
    if (!text || budget - text.length < 0) continue;
    budget -= text.length;
    out.unshift(section("issue_comment", text, { author: comment.author }));
  }
  return out;
}

/**
 * Formats the untrusted material into fenced sections, each sanitised and capped: issue title and
 * body, write-access comments, the maintainer's instructions, the code around a finding and the
 * repository's own instruction files. Pure: no I/O.
 */
export function formatSections(input: FormatInput): string[] {
  const sections: string[] = [];
  if (input.issue) {
    sections.push(section("issue_title", cap(sanitizeUntrusted(input.issue.title), LIMITS.title), { number: input.issue.number }));
    sections.push(section("issue_body", cap(sanitizeUntrusted(input.issue.body), LIMITS.body), { number: input.issue.number }));
  }
  sections.push(...formatComments(input.comments ?? []));
  const instructions = input.instructions ? cap(sanitizeUntrusted(input.instructions), LIMITS.instructions) : "";
  if (instructions) sections.push(section("maintainer_instructions", instructions));
  if (input.finding) {
    const { finding } = input;
    const body = `${sanitizeUntrusted(finding.title)}\n\n${cap(sanitizeCode(finding.code), LIMITS.code)}`;
    sections.push(section("todo_finding", body, { path: finding.path, line: finding.line, first_line_shown: finding.startLine }));
  }
  for (const file of input.repositoryInstructions ?? []) {
    const text = cap(sanitizeUntrusted(file.text), LIMITS.repositoryFile);
    if (text) sections.push(section("repository_instructions", file.truncated ? `${text}\n[... truncated]` : text, { path: file.path }));
  }
  return sections;
}
