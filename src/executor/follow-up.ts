import { RequestError } from "@octokit/request-error";
import { git } from "../git/git.js";
import { createWorktree, removeWorktree } from "../git/workspace.js";
import { isAllowedBot } from "../handlers/guards.js";
import { BacklogBotError } from "../util/errors.js";
import { removeAgentHomes } from "./agent-session.js";
import { preparePrompt } from "./agents/prompt/index.js";
import type { FollowUpPromptSources, FollowUpReason, RoundRecord } from "./agents/prompt/sources.js";
import { notesList, updatePullRequestSections } from "./pull-request.js";
import { publishVerification, verifyRounds } from "./rounds.js";
import { commit, fetchMirror, inspectChanges, push, type RunEnd, runAgents, TaskFailure, type TaskRun } from "./run-task.js";
import type { Verification } from "./verify.js";
import { failureHeadline, verificationLine, verificationSection } from "./verify-report.js";

/**
 * Follow-ups on the bot's own pull requests (issue 10): a review asking for changes, a writer's
 * `/agent fix` on the PR, or red CI on its head start a new round on the same branch — a new
 * commit on top of whatever is there (others' commits included), never a force-push. Bounded per
 * PR by `followUps.max`, review and CI together; a follow-up that ends with the same failures or
 * with no change stops the loop, and the bot says once what was tried and what is left. Past the
 * stop, each writer's `/agent fix` comment still starts one round (see `decideFollowUp`).
 */

/** What started a follow-up. */
export type FollowUpTrigger =
  | { type: "review"; reviewId: number; state: "changes_requested" | "commented" | "approved" | "dismissed" }
  /** `commentId`: the `/agent fix` or `/agent retry` comment (absent in jobs queued before it was recorded). */
  | { type: "comment"; commentId?: number }
  | { type: "ci"; checkName: string; headSha: string };

/** One earlier follow-up of the PR, as the decision needs it. */
export interface FollowUpRecord {
  trigger: FollowUpTrigger["type"];
  /** The PR head it ran on. */
  headSha: string;
  /** For CI: the failing check's name, so one failure on one head starts one follow-up. */
  checkName: string | null;
  /**
   * `no_changes`, the verification's status and failing tests (see `outcomeSignature`), or a
   * stopped round's `cancelled` / `interrupted` (see `STOPPED_OUTCOMES`).
   */
  outcome: string;
}

/**
 * Outcomes of rounds that were stopped before they could change anything (`/agent cancel`, a lost
 * lease, the PR merged or closed mid-round, a worker that died): they say nothing about whether a
 * follow-up helps, so the stop rules that compare outcomes skip them.
 */
export const STOPPED_OUTCOMES: readonly string[] = ["cancelled", "interrupted"];

/** What the decision knows about the PR, the person and the history. */
export interface FollowUpContext {
  /** The PR as GitHub has it now; `headSha` is its current head commit. */
  pr: { open: boolean; merged: boolean; openedByBot: boolean; headSha: string };
  /** Who caused the trigger (reviewer, commenter; for CI, the bot's own view: always allowed). */
  actor: { login: string; isBot: boolean; canWrite: boolean } | null;
  allowedBots: readonly string[];
  /** `followUps.max`. */
  max: number;
  done: readonly FollowUpRecord[];
  /** Whether the summary at the bound was already posted (it is said once). */
  summaryPosted: boolean;
  /** Why the repository's `dailyRunLimit` holds back more agent runs now, or null/absent when it allows one. */
  runLimit?: string | null;
}

/**
 * Start one, or why not (and whether this is the moment for the one summary comment). `held`: the
 * round would have started but for `dailyRunLimit` (`ctx.runLimit`); nothing was recorded, so a
 * later trigger can start it once the limit allows.
 */
export type FollowUpDecision = { start: true } | { start: false; reason: string; postSummary: boolean; held?: true };

/** A follow-up's outcome in a form two follow-ups can be compared by. */
export function outcomeSignature(v: Verification | null, changed: boolean): string {
  if (!changed) return "no_changes";
  if (!v) return "unverified";
  return `${v.status}:${JSON.stringify([...(v.head?.report?.failures ?? [])].sort())}`;
}

/**
 * Whether a trigger may start a follow-up now (pure: the caller gathers the context).
 *
 * The loop stops at `followUps.max` rounds, after a round that changed nothing, or after two rounds
 * that left the same failures; then reviews and red CI start nothing, and the one summary is asked
 * for. Past such a stop, a person with write access (not a bot, allowedBots included) can still ask
 * for exactly one more round per `/agent fix` or `/agent retry` comment (the job is deduped per
 * comment), as the summary says: rounds past the bound never start on their own, each needs a new
 * comment.
 *
 * Every round runs an agent, so every round, within the bound or past it, stays within the
 * repository's `dailyRunLimit` (`ctx.runLimit`: the agent runs here in the last 24 hours, the
 * `countRunsSince` that requests.ts `checkLimits` counts too): a round it holds back is `held`, and
 * records nothing.
 *
 * Red CI starts a round only for the PR's current head, once per check and head: a failure on an
 * older head (the queue's next job after a round pushed) is stale and starts nothing.
 */
export function decideFollowUp(trigger: FollowUpTrigger, ctx: FollowUpContext): FollowUpDecision {
  const no = (reason: string, postSummary = false): FollowUpDecision => ({ start: false, reason, postSummary });
  const held = (reason: string, postSummary = false): FollowUpDecision => ({ start: false, reason, postSummary, held: true });
  if (!ctx.pr.openedByBot) return no("the pull request was not opened by backlog-bot");
  if (ctx.pr.merged || !ctx.pr.open) return no("the pull request is merged or closed");
  if (trigger.type !== "ci") {
    const actor = ctx.actor;
    if (!actor) return no("no author");
    if (actor.isBot && !isAllowedBot(actor.login, ctx.allowedBots)) return no(`bot ${actor.login} is not in allowedBots`);
    if (!actor.canWrite) return no(`${actor.login} has no write access`);
  }
  if (trigger.type === "review" && trigger.state !== "changes_requested" && trigger.state !== "commented") {
    return no(`a review that ${trigger.state === "approved" ? "approves" : "was dismissed"} asks for nothing`);
  }
  if (trigger.type === "ci" && trigger.headSha && trigger.headSha !== ctx.pr.headSha) {
    return no(
      `the failure of ${trigger.checkName} is on ${trigger.headSha.slice(0, 7)}, no longer the pull request's head (${ctx.pr.headSha.slice(0, 7)}): its result is stale`,
    );
  }
  if (
    trigger.type === "ci" &&
    ctx.done.some((d) => d.trigger === "ci" && d.headSha === trigger.headSha && d.checkName === trigger.checkName)
  ) {
    return no(`the failure of ${trigger.checkName} on this head was followed up already`);
  }
  const stop = stopReason(ctx.done, ctx.max);
  if (!stop) return ctx.runLimit ? held(`the repository's daily run limit is reached: ${ctx.runLimit}`) : { start: true };
  const asked = trigger.type === "comment" && ctx.actor !== null && !ctx.actor.isBot;
  if (!asked) return no(stop, !ctx.summaryPosted);
  if (ctx.runLimit) return held(`${stop}, and one more round asked for with \`/agent fix\` waits: ${ctx.runLimit}`, !ctx.summaryPosted);
  return { start: true };
}

/**
 * Why the loop is over: the bound (every round counts, stopped ones too), a follow-up that changed
 * nothing, or one that left the same failures as the one before. The last two are judged on rounds
 * that ran to an end: a cancelled or interrupted round is no evidence either way.
 */
function stopReason(done: readonly FollowUpRecord[], max: number): string | null {
  if (done.length >= max) return `the pull request had its ${max} follow-up(s) (\`followUps.max\`)`;
  const ended = done.filter((d) => !STOPPED_OUTCOMES.includes(d.outcome));
  const last = ended.at(-1);
  if (last?.outcome === "no_changes") return "the last follow-up changed nothing";
  const before = ended.at(-2);
  if (last && before && last.outcome === before.outcome && !last.outcome.startsWith("passed"))
    return "the last follow-up ended with the same failures";
  return null;
}

/** The one comment at the bound: what was tried, what still fails, what a person needs to decide. */
export function followUpSummary(done: readonly FollowUpRecord[], reason: string, last: Verification | null): string {
  const tried = done.map(
    (d, i) =>
      `${i + 1}. after ${d.trigger === "ci" ? `red CI (${d.checkName})` : d.trigger === "review" ? "a review" : "`/agent fix`"} on \`${d.headSha.slice(0, 7)}\`: ${d.outcome === "no_changes" ? "no change" : d.outcome.split(":")[0]}`,
  );
  return [
    `backlog-bot stops following up on this pull request: ${reason}.`,
    "",
    "**What was tried**",
    ...(tried.length ? tried : ["Nothing yet."]),
    "",
    "**What still fails**",
    last ? verificationLine(last) : "No verification was recorded.",
    "",
    "**What a person needs to decide**",
    "Take the branch over, push a fix yourself, or close the pull request. Reviews and red CI start no more follow-ups; each `/agent fix <instructions>` that a person with write access comments on this pull request starts one more (within the repository's `dailyRunLimit`).",
  ].join("\n");
}

/** The follow-up's prompt sources: the PR, why, and what earlier rounds did. */
export interface FollowUpInput {
  pullNumber: number;
  pullTitle?: string;
  reason: FollowUpReason;
  earlierRounds?: RoundRecord[];
  /** The PR's base branch (the default branch): verification compares against where the branch forked from it. */
  baseBranch: string;
}

/** How a follow-up round's steps ended: no change, or a push with the `report` to say on the PR. */
export type FollowUpEnd = Extract<RunEnd, { state: "no_changes" }> | (Extract<RunEnd, { state: "pr_open" }> & { report: string });

/**
 * The follow-up pipeline over one `TaskRun` whose `branch` is the PR's head branch: fetch, a
 * worktree at the branch's current tip (others' commits included), the agent with the follow-up
 * prompt, verify rounds (judged against the merge base with `baseBranch`), a new commit on top,
 * a push leased on the tip it was built on (so nothing anyone pushed meanwhile is overwritten), the
 * check run on the new head, and the PR body's evidence. The comment that says on the PR what was
 * pushed, with the verification line, is the end's `report`, said by the caller: the push stands
 * whether or not GitHub takes that comment at once.
 * @throws TaskFailure for outcomes to tell the person who asked; BacklogBotError `INTERRUPTED` when
 * `run.signal` stopped the round before it pushed (the caller says why).
 */
export async function runFollowUpSteps(run: TaskRun, input: FollowUpInput): Promise<FollowUpEnd> {
  try {
    await prepareFollowUpWorkspace(run, input.baseBranch);
    const sources: FollowUpPromptSources = {
      kind: "follow_up",
      octokit: run.github.octokit,
      owner: run.github.owner,
      repo: run.github.name,
      repository: run.repo.full_name,
      worktree: run.worktree as string,
      instructions: run.task.instructions,
      triggeredAt: run.task.requested_at ?? run.task.created_at,
      triggerCommentId: run.task.trigger_comment_id,
      pullNumber: input.pullNumber,
      ...(input.pullTitle && { pullTitle: input.pullTitle }),
      reason: input.reason,
      earlierRounds: input.earlierRounds ?? [],
    };
    run.promptSources = sources;
    run.prompt = await preparePrompt(sources);
    await runAgents(run);
    // Stopped from outside (cancel, lost lease, PR merged): the untouched worktree says nothing about a change.
    if (run.signal.aborted) throw new BacklogBotError("INTERRUPTED", "the follow-up was stopped");
    const noChanges = (): FollowUpEnd => ({ state: "no_changes", agent: run.agent ?? "", summary: run.result?.summary ?? "" });
    if ((await inspectChanges(run)).length === 0) return noChanges();
    await verifyRounds(run, runAgents);
    if (run.signal.aborted) throw new BacklogBotError("INTERRUPTED", "shutdown");
    if ((await inspectChanges(run)).length === 0) return noChanges();
    await commit(run);
    // Lease on the tip this commit builds on: if anyone pushed since the fetch, the push fails instead of overwriting.
    run.task = { ...run.task, pushed_sha: run.baseCommit ?? null };
    await push(run);
    await publishVerification(run);
    const line = run.verification ? verificationLine(run.verification) : "Not verified.";
    await rewriteBody(run, input);
    const pr = { number: input.pullNumber, url: run.task.pr_url ?? "" };
    run.pr = pr;
    const report = `Follow-up by \`${run.agent}\`: pushed ${run.commitSha?.slice(0, 7)} on top of ${run.baseCommit?.slice(0, 7)}.\n\n${line}`;
    return { state: "pr_open", pr, agent: run.agent ?? "", report };
  } finally {
    if (run.mirror && run.worktree) await removeWorktree(run.mirror, run.worktree, run.branch);
    await removeAgentHomes(run);
  }
}

/** How the PR body names what started a follow-up. */
function triggerText(reason: FollowUpReason): string {
  if (reason.type === "review") return "a review";
  if (reason.type === "ci") return `red CI (${reason.check.name.replace(/[`<]/g, "")})`;
  return "`/agent fix`";
}

/**
 * The PR body after a follow-up pushed: its warning, notes and Verification section (the bot's
 * marked sections) now show this follow-up's evidence; what people wrote elsewhere in the body
 * stays. A refused update costs a log line, not the follow-up: the commit, the check run and the
 * comment carry the same evidence.
 */
async function rewriteBody(run: TaskRun, input: FollowUpInput): Promise<void> {
  const v = run.verification;
  const latest = `Latest follow-up, after ${triggerText(input.reason)}, by \`${run.agent}\`: commit \`${run.commitSha?.slice(0, 7)}\` on top of \`${run.baseCommit?.slice(0, 7)}\`.`;
  const verification = v
    ? verificationSection(v).replace(
        /^### Verification\n/,
        `### Verification\n\n_Evidence of commit \`${run.commitSha?.slice(0, 7)}\` (the latest follow-up)._\n`,
      )
    : `### Verification\n\nThe latest follow-up (commit \`${run.commitSha?.slice(0, 7)}\`) was not verified.`;
  try {
    await updatePullRequestSections(
      run.github.octokit,
      { owner: run.github.owner, repo: run.github.name, number: input.pullNumber },
      { headline: (v && failureHeadline(v)) ?? "", notes: notesList([latest, ...run.notes]), verification },
    );
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    run.log.warn({ err: error, status: error.status }, "could not update the pull request body");
  }
}

/** Fetches, and makes a fresh worktree at the PR branch's current tip; verification compares against the fork point with `baseBranch`. */
async function prepareFollowUpWorkspace(run: TaskRun, baseBranch: string): Promise<void> {
  const { deps } = run;
  const mirror = await fetchMirror(run);
  const created = await createWorktree(mirror, deps.settings.dataDir, run.task.id, run.branch, run.branch, run.task.attempts).catch(
    (error: Error) => {
      throw new TaskFailure(`the pull request's branch \`${run.branch}\` is gone, so there is nothing to follow up on`, { cause: error });
    },
  );
  run.worktree = created.worktree;
  run.baseCommit = created.baseCommit;
  const { stdout } = await git(["merge-base", `refs/remotes/origin/${baseBranch}`, created.baseCommit], { cwd: mirror });
  run.verifyBase = stdout.trim();
}
