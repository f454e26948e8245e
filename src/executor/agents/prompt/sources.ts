import type { Octokit } from "@octokit/rest";
import type { CheckSource } from "./fetch-check.js";
import type { Trigger } from "./fetch-issue.js";
import type { PermissionCache } from "./permissions.js";

export type { CheckSource } from "./fetch-check.js";
export type { Trigger } from "./fetch-issue.js";
export type { PermissionCache } from "./permissions.js";

/** What every prompt needs: where the agent works, and how to reach GitHub. */
export interface SourceBase {
  /** `owner/repo`, or the path of a local checkout. Ours, not the requester's. */
  repository: string;
  /** The worktree, for the repository's own agent instructions and the code around a finding. */
  worktree: string;
  /** Installation-authenticated client for the repository; absent for local CLI runs (nothing is fetched). */
  octokit?: Octokit;
  owner: string;
  repo: string;
  /** Shares permission answers across prompts of one repository (per login); a fresh one per call otherwise. */
  permissionCache?: PermissionCache;
  /** The maintainer's words after `/agent fix` (or given with a tick or an API request); untrusted. */
  instructions?: string | null;
}

/**
 * Work on an issue: asked with `/agent fix`, a dashboard tick, the API or the CLI, and for stale or
 * labelled-issue findings. With `octokit` and `issueNumber`, the title, body and comments are
 * fetched as of `triggeredAt` (see fetch-issue.ts); otherwise `title`/`body` are used.
 */
export interface IssuePromptSources extends SourceBase, Trigger {
  kind: "issue";
  issueNumber: number | null;
  /** Title (and body) used when nothing is fetched. */
  title: string;
  body?: string | null;
  /** The issue as the triggering webhook carried it (title and body at trigger time); skips rebuilding it from history. */
  snapshot?: { title: string; body: string | null };
}

/** A TODO (or FIXME...) comment found in the code. */
export interface TodoPromptSources extends SourceBase {
  kind: "todo";
  finding: {
    /** Relative to the worktree. */
    path: string;
    /** 1-based. */
    line: number;
    /** The comment's text. */
    title: string;
    /** `git blame` author name and ISO 8601 author time of the line (the finding's signals). */
    author?: string | null;
    authoredAt?: string | null;
  };
}

/** A check failing on the default branch; the agent's branch starts from the default branch head. */
export interface FailingCheckPromptSources extends SourceBase {
  kind: "failing_check";
  check: CheckSource;
}

/** What one earlier agent round on the same task did, from the runs table. The summary is the agent's own words: untrusted. */
export interface RoundRecord {
  /** 1-based round (or follow-up) number. */
  round: number;
  /** What started it: `issue`, `review`, `comment`, `ci`, `verify`... */
  trigger: string;
  /** `changes`, `no_changes`, `failed`, `timeout`, plus the verification line when there was one. */
  outcome: string;
  summary?: string | null;
}

/** Why a follow-up on the bot's own pull request was started. */
export type FollowUpReason =
  /** A review (changes requested, or comments) by someone with write access; fetched by id when `octokit` is given. */
  | { type: "review"; reviewId: number }
  /** `/agent fix [instructions]` (or `/agent retry`) on the pull request; the words come in `instructions`. */
  | { type: "comment" }
  /** Red CI on the pull request's head. */
  | { type: "ci"; check: CheckSource };

/**
 * A follow-up round on a pull request the bot opened: the same branch, a new commit on top.
 * Writers' conversation comments up to `triggeredAt` are included, as for an issue.
 */
export interface FollowUpPromptSources extends SourceBase, Trigger {
  kind: "follow_up";
  pullNumber: number;
  pullTitle?: string;
  reason: FollowUpReason;
  /** `status path (+a -d)` lines; fetched from the pull request's files when absent and `octokit` is given. */
  diffSummary?: string;
  /** What the earlier rounds on this pull request did, oldest first. */
  earlierRounds?: RoundRecord[];
}

/** The repository's own checks after an agent round, failing. */
export interface VerificationFailure {
  /** The verify command as run, e.g. `npm test`. */
  command: string;
  exitCode: number | null;
  /** Combined output; only its last VERIFY_OUTPUT_MAX_BYTES bytes reach the prompt (sanitize-log.ts). */
  output: string;
  /** Tests failing now that passed on the base commit, when the runner's output was parsed. */
  newFailures?: string[];
}

/**
 * The next round after verification failed. For an agent resuming its own session
 * (`claude --resume`, `codex exec resume`) leave `task` out: the prompt is the next turn only.
 * For one that starts fresh (aider, gemini, command) pass the original task's sources as `task`:
 * its sections come first, then the previous summary and the failures.
 */
export interface VerifyRoundPromptSources {
  kind: "verify_round";
  repository: string;
  worktree: string;
  /** 1-based number of the round about to run, and the bound (`verify.maxRounds`). */
  round: number;
  maxRounds: number;
  /** The previous round's summary (the agent's words: untrusted). */
  previousSummary: string | null;
  failure: VerificationFailure;
  task?: Exclude<PromptSources, VerifyRoundPromptSources>;
}

/** Where a prompt comes from, by `kind`. See each member. */
export type PromptSources =
  | IssuePromptSources
  | TodoPromptSources
  | FailingCheckPromptSources
  | FollowUpPromptSources
  | VerifyRoundPromptSources;

/** The kinds of prompt. */
export type PromptKind = PromptSources["kind"];
