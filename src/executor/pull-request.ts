import { RequestError } from "@octokit/request-error";
import type { Octokit } from "@octokit/rest";
import { INVISIBLE } from "../util/invisible.js";
import { redactSecrets } from "../util/logger.js";
import { type BotSection, markSection, replaceSections } from "./pr-sections.js";

/** Everything the PR body tells reviewers. */
export interface PullRequestInput {
  owner: string;
  repo: string;
  branch: string;
  base: string;
  taskId: number;
  issueNumber: number | null;
  title: string;
  requestedBy: string;
  instructions: string | null;
  agent: string;
  summary: string;
  /** Lines such as "claude-code failed (binary missing); codex ran instead". */
  notes: string[];
  figures: string | null;
  diffStat: string;
  /** The Verification section (verify-report.ts), and a line for the top when the tests do not pass. */
  verification?: { section: string; headline: string | null } | null;
}

/** GitHub caps a PR body at 65,536 characters (a longer `body` is a 422); the summary's share. */
const MAX_SUMMARY = 20_000;
/** The whole body's cap, under GitHub's 65,536 characters. */
export const MAX_PR_BODY = 60_000;

/**
 * Untrusted text (an issue title, the agent's words) made inert in a PR body, a comment or a commit
 * message: secrets redacted, the characters `INVISIBLE` lists dropped (a bidi override makes a
 * reviewer read other words than the ones there), `<` and `>` as entities (no HTML, no forged
 * section marker), and a zero-width space after `@` and `#`, so it pings no one and names no issue
 * — "closes #40" in an agent's summary or a title would otherwise close issue 40 when the PR is
 * merged (https://docs.github.com/en/issues/tracking-your-work-with-issues/linking-a-pull-request-to-an-issue).
 */
export function inertText(text: string): string {
  return redactSecrets(text)
    .replace(INVISIBLE, "")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/([@#])/g, "$1\u200b");
}

/** Quotes untrusted text as a Markdown block quote, so it cannot open HTML or close our sections; at most `max` characters. */
function quote(text: string, max = MAX_SUMMARY): string {
  const inert = inertText(text);
  const cut = inert.length > max ? `${inert.slice(0, max)}\n… (cut)` : inert;
  return cut
    .split("\n")
    .map((line) => `> ${line}`)
    .join("\n");
}

/**
 * Who asked, for the PR body: `@login` for a person, and a plain word for the bot's own
 * requesters (`autopilot`, the API token, a CLI user `cli:<name>`), which would otherwise mention
 * whoever holds that GitHub account.
 */
export function requester(requestedBy: string): string {
  if (requestedBy === "autopilot") return "autopilot";
  if (requestedBy === "api-token") return "the API";
  if (requestedBy.includes(":")) return `\`${requestedBy.replace(/`/g, "")}\``;
  return `@${requestedBy}`;
}

/** The notes as the PR body's list. */
export const notesList = (notes: readonly string[]): string => notes.map((n) => `- ${n}`).join("\n");

/**
 * The draft PR's body: what was asked, what the agent reported, and the closing keyword. The
 * warning at the top, the notes and the Verification section sit between hidden markers
 * (pr-sections.ts), so a follow-up can replace them with its own evidence.
 */
export function pullRequestBody(input: PullRequestInput): string {
  const body = (summaryMax: number) => {
    const title = inertText((input.title.split("\n")[0] ?? "").slice(0, 250));
    const lines = [
      markSection("headline", input.verification?.headline ?? ""),
      "",
      `This draft pull request was made by backlog-bot (task #${input.taskId}) with the \`${input.agent}\` agent, at the request of ${requester(input.requestedBy)}.`,
      "",
      "### What was asked",
      input.issueNumber !== null ? `Issue #${input.issueNumber}: ${title}` : title,
    ];
    if (input.instructions) lines.push("", "Instructions:", quote(input.instructions, summaryMax));
    const summary = input.summary.trim();
    lines.push("", "### What the agent reported", summary ? quote(summary, summaryMax) : "_The agent gave no summary._");
    return finish(lines, input);
  };
  const full = body(MAX_SUMMARY);
  // Over the cap (a long summary, long test output in Verification): the agent's words give way first.
  return full.length <= MAX_PR_BODY ? full : body(Math.max(0, MAX_SUMMARY - (full.length - MAX_PR_BODY) - 100)).slice(0, MAX_PR_BODY);
}

function finish(lines: string[], input: PullRequestInput): string {
  lines.push("", markSection("notes", notesList(input.notes)));
  lines.push("", markSection("verification", input.verification?.section ?? ""));
  lines.push("", "### Change", "```", input.diffStat.trim(), "```");
  if (input.figures) lines.push("", input.figures);
  lines.push("", "Review it like any contribution: nothing here was merged automatically.");
  if (input.issueNumber !== null) lines.push("", `Fixes #${input.issueNumber}`);
  return lines.join("\n");
}

/** The marked sections of the body `pullRequestBody` writes, for rewriting an existing PR's. */
function sectionsOf(input: PullRequestInput): Record<BotSection, string> {
  return { headline: input.verification?.headline ?? "", notes: notesList(input.notes), verification: input.verification?.section ?? "" };
}

/**
 * Opens the draft PR, or returns the open PR that already exists for the branch (a retry after a
 * crash between push and PR must not open a second one), its marked sections rewritten with this
 * run's evidence.
 * @throws the Octokit RequestError when GitHub refuses (e.g. 422 when the branch has no commits).
 */
export async function openDraftPullRequest(octokit: Octokit, input: PullRequestInput): Promise<{ number: number; url: string }> {
  const { data: existing } = await octokit.rest.pulls.list({
    owner: input.owner,
    repo: input.repo,
    head: `${input.owner}:${input.branch}`,
    state: "open",
    per_page: 1,
  });
  const found = existing[0];
  if (found) {
    // The retry's evidence replaces the crashed attempt's. A refused update is not the task's
    // failure: the check run on the pushed head carries the same evidence.
    const body = replaceSections(found.body ?? "", sectionsOf(input));
    if (found.body && body !== found.body) {
      await octokit.rest.pulls.update({ owner: input.owner, repo: input.repo, pull_number: found.number, body }).catch((error: unknown) => {
        if (!(error instanceof RequestError)) throw error;
      });
    }
    return { number: found.number, url: found.html_url };
  }
  const title = input.issueNumber !== null ? `${input.title} (#${input.issueNumber})` : input.title;
  const { data } = await octokit.rest.pulls.create({
    owner: input.owner,
    repo: input.repo,
    head: input.branch,
    base: input.base,
    title: title.slice(0, 250),
    body: pullRequestBody(input),
    draft: true,
  });
  return { number: data.number, url: data.html_url };
}

/**
 * Rewrites the bot's marked sections of an open PR's body (pr-sections.ts), reading the body right
 * before the update so that what people wrote outside the markers — just now included — is kept.
 * Sends nothing when the body would not change.
 * @returns whether the body was updated.
 * @throws the Octokit RequestError when GitHub refuses the read or the update.
 */
export async function updatePullRequestSections(
  octokit: Octokit,
  target: { owner: string; repo: string; number: number },
  sections: Partial<Record<BotSection, string>>,
): Promise<boolean> {
  const { data } = await octokit.rest.pulls.get({ owner: target.owner, repo: target.repo, pull_number: target.number });
  const before = data.body ?? "";
  const body = replaceSections(before, sections);
  if (body === before) return false;
  await octokit.rest.pulls.update({ owner: target.owner, repo: target.repo, pull_number: target.number, body });
  return true;
}
