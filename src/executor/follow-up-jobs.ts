import type { Octokit } from "@octokit/rest";
import { lastValidConfig } from "../config/load.js";
import { commentOnce } from "../github/comments.js";
import type { JobContext } from "../jobs/types.js";
import { endFollowUp, listFollowUps, startFollowUp } from "../store/follow-ups.js";
import { getRepositoryById } from "../store/repositories.js";
import { claimTask, countRunsSince, getTask, renewLease, transition } from "../store/tasks.js";
import { metrics } from "../util/metrics.js";
import { newOwnerId } from "../util/owner.js";
import type { FollowUpReason } from "./agents/prompt/sources.js";
import {
  decideFollowUp,
  type FollowUpRecord,
  type FollowUpTrigger,
  followUpSummary,
  outcomeSignature,
  runFollowUpSteps,
  STOPPED_OUTCOMES,
} from "./follow-up.js";
import { inertText, requester } from "./pull-request.js";
import { addReplyJob, oweReply, type Reply } from "./replies.js";
import { type ExecutorDeps, LeaseLost, type TaskRun } from "./run-task.js";

/** Payload of a `task.follow_up` job: what happened on the bot's PR, said by the handler that saw it. */
export interface FollowUpJob {
  taskId: number;
  trigger: FollowUpTrigger;
  /** Who caused it, with write access as the handler checked it; null for CI. */
  actor: { login: string; isBot: boolean; canWrite: boolean } | null;
  /** `/agent fix <instructions>` words (untrusted), for a comment trigger. */
  instructions?: string | null;
}

/** How a follow-up job ended, for logs and tests. */
export type FollowUpJobEnd = { ran: true; outcome: string } | { ran: false; reason: string; summaryPosted: boolean };

const DAY_MS = 24 * 3_600_000;

/**
 * How often (ms) a follow-up held by a suspended installation looks again: a follow-up's trigger
 * lives only in its job, so it is re-added for later rather than kept as a queued task is.
 */
export const SUSPENDED_RECHECK_MS = 10 * 60_000;

/** Renew the lease this often (ms) at most while a follow-up runs, as `TaskRunner` does. */
const HEARTBEAT_MAX_MS = 2_000;

/**
 * Runs follow-ups as `task.follow_up` jobs (issue 10): decides with `decideFollowUp` from the PR as
 * GitHub has it now and the follow-ups recorded so far, claims the PR's task (`pr_open` →
 * `running`), runs `runFollowUpSteps`, records the outcome and returns the task to `pr_open`
 * whatever happened (a failed follow-up does not close anything; the PR comment says what failed).
 * The comment saying a round's end (pushed, or no change) that GitHub refuses is owed as a task's
 * replies are (the `reply` job says it): the round stays what it was.
 * A round stopped before it pushed is recorded `cancelled` (`/agent cancel`, said on the PR) or
 * `interrupted` (a lost lease, the PR merged or closed; said nothing), never as "no change".
 * At the bound it posts the one summary comment instead.
 */
export class FollowUpRunner {
  readonly owner = newOwnerId();

  constructor(private readonly deps: ExecutorDeps) {}

  /** Registers the job handler. */
  start(): void {
    this.deps.jobs.handle<FollowUpJob>("task.follow_up", async (payload, ctx) => {
      await this.run(payload, ctx);
    });
  }

  /** Queues a follow-up; `key` dedupes redeliveries (e.g. `review:<id>`, `ci:<sha>:<check>`, `comment:<id>`). */
  async enqueue(job: FollowUpJob, key: string): Promise<void> {
    // One queue per task: a second follow-up waits for the first instead of finding the task busy.
    await this.deps.jobs.add<FollowUpJob>({
      kind: "task.follow_up",
      payload: job,
      key: `follow-up:${job.taskId}:${key}`,
      queue: `follow-up:${job.taskId}`,
    });
  }

  /**
   * One follow-up job. While the repository's installation is suspended it is held: added again
   * for `SUSPENDED_RECHECK_MS` later, asking GitHub nothing.
   * @throws the Octokit RequestError when GitHub cannot be reached before the task was claimed (the job retries).
   * @throws TaskBusyError when the task is running (the job retries).
   */
  async run(job: FollowUpJob, ctx: Pick<JobContext, "log">): Promise<FollowUpJobEnd> {
    const { deps } = this;
    const log = ctx.log.child({ taskId: job.taskId, followUp: job.trigger.type });
    const task = await getTask(deps.db, job.taskId);
    const repo = task ? await getRepositoryById(deps.db, task.repository_id) : undefined;
    if (!task || !repo || task.pr_number === null) return { ran: false, reason: "no pull request of the bot's", summaryPosted: false };
    if (repo.suspended_at !== null) {
      // GitHub mints no token for a suspended installation: the same follow-up asks again later,
      // on the task's queue, costing no attempt (a job that returns is done; one that throws retries).
      const runAt = new Date(Date.now() + SUSPENDED_RECHECK_MS);
      await deps.jobs.add<FollowUpJob>({
        kind: "task.follow_up",
        payload: job,
        key: `follow-up:${job.taskId}:held:${runAt.getTime()}`,
        queue: `follow-up:${job.taskId}`,
        runAt,
      });
      log.info({ runAt }, "installation suspended; follow-up held");
      return { ran: false, reason: "the installation is suspended", summaryPosted: false };
    }
    const [owner = "", name = ""] = repo.full_name.split("/");
    const octokit = await deps.github.octokit(repo.installation_id);
    const { data: pr } = await octokit.rest.pulls.get({ owner, repo: name, pull_number: task.pr_number });
    const config = lastValidConfig(repo);
    const rows = await listFollowUps(deps.db, task.id);
    const done: FollowUpRecord[] = rows
      .filter((r) => r.trigger !== "summary")
      .map((r) => ({
        trigger: r.trigger as FollowUpRecord["trigger"],
        headSha: r.head_sha,
        checkName: r.check_name,
        outcome: r.outcome ?? "running",
      }));
    const runLimit = await dailyRunLimitHold(deps, task.repository_id, config.dailyRunLimit);
    const decision = decideFollowUp(job.trigger, {
      pr: { open: pr.state === "open", merged: pr.merged === true, openedByBot: pr.head.ref === task.branch, headSha: pr.head.sha },
      actor: job.actor,
      allowedBots: config.allowedBots,
      max: config.followUps.max,
      done,
      summaryPosted: rows.some((r) => r.trigger === "summary"),
      runLimit,
    });
    const where = { owner, repo: name, issueNumber: task.pr_number };
    if (!decision.start) {
      log.info({ reason: decision.reason }, "no follow-up");
      if (decision.postSummary) {
        // Said, then recorded: a post that failed (or a crash before it) is made again by the job's
        // retry, which a record written first would have told the summary was posted; a crash after
        // the post finds it by its marker.
        await commentOnce(octokit, {
          ...where,
          body: followUpSummary(done, decision.reason, null),
          marker: `follow-up-${task.id}:summary`,
        });
        await startFollowUp(deps.db, { taskId: task.id, trigger: "summary", headSha: pr.head.sha });
      }
      if (job.trigger.type === "comment") await replyRefused(octokit, where, task.id, job.trigger, decision.reason);
      else if (decision.held) await sayHeld(octokit, where, task.id, done.length, decision.reason);
      return { ran: false, reason: decision.reason, summaryPosted: decision.postSummary };
    }
    const claimed = await claimTask(deps.db, task.id, this.owner, deps.settings.leaseMs, { followUp: true });
    if (!claimed) {
      // Still running (its first run finishing, or a follow-up of another process): the job retries
      // later, as its queue cannot see other processes' work. An ended task has nothing to follow up.
      if ((await getTask(deps.db, task.id))?.state === "running") throw new TaskBusyError(task.id);
      const reason = "the task ended";
      if (job.trigger.type === "comment") await replyRefused(octokit, where, task.id, job.trigger, reason);
      return { ran: false, reason, summaryPosted: false };
    }
    const checkName = job.trigger.type === "ci" ? job.trigger.checkName : null;
    const id = await startFollowUp(deps.db, { taskId: task.id, trigger: job.trigger.type, headSha: pr.head.sha, checkName });
    const controller = new AbortController();
    const heartbeat = setInterval(
      () => {
        renewLease(deps.db, task.id, this.owner, deps.settings.leaseMs)
          .then((held) => held || controller.abort("lease"))
          .catch((err: unknown) => log.warn({ err }, "could not renew the follow-up's lease"));
      },
      Math.min(deps.settings.leaseMs / 3, HEARTBEAT_MAX_MS),
    );
    heartbeat.unref();
    const run: TaskRun = {
      deps,
      task: { ...claimed, instructions: job.instructions ?? null },
      repo,
      owner: this.owner,
      signal: controller.signal,
      log,
      github: { owner, name, octokit },
      branch: pr.head.ref,
      notes: [],
    };
    let outcome = "failed";
    let completed = false;
    /** The round's end that GitHub did not take at once: owed with the move back to `pr_open`. */
    let unsaid: Reply | null = null;
    /** A round stopped before it pushed: `cancelled` by `/agent cancel`, else `interrupted` (lost lease, PR merged or closed). */
    const stopped = async (): Promise<string> => {
      const by = (await getTask(deps.db, task.id))?.cancel_requested_by;
      if (!by) {
        log.warn("follow-up stopped from outside (lease lost, or the pull request merged or closed); recorded as interrupted");
        return "interrupted";
      }
      log.info({ by }, "follow-up cancelled");
      await commentOnce(octokit, {
        owner,
        repo: name,
        issueNumber: task.pr_number as number,
        body: `The follow-up of task #${task.id} was cancelled by ${requester(by)}; its agent was stopped and nothing was pushed.`,
        marker: followUpCancelMarker(id),
      }).catch((err: unknown) => log.warn({ err }, "could not say that the follow-up was cancelled"));
      return "cancelled";
    };
    try {
      const end = await runFollowUpSteps(run, {
        pullNumber: task.pr_number,
        pullTitle: pr.title,
        reason: reasonOf(job.trigger, pr.head.sha),
        baseBranch: pr.base.ref,
        earlierRounds: done.map((d, i) => ({ round: i + 1, trigger: d.trigger, outcome: d.outcome })),
      });
      if (end.state !== "pr_open" && controller.signal.aborted) {
        outcome = await stopped();
      } else {
        outcome = outcomeSignature(run.verification ?? null, end.state === "pr_open");
        completed = true;
      }
      // The round's end, said on the PR. A post GitHub refuses (a 5xx) leaves the round what it was:
      // the reply is owed, and the reply job says it (once, by its marker) when GitHub takes it.
      if (completed) {
        const said =
          end.state === "pr_open"
            ? { body: end.report, marker: `follow-up-${id}:pushed` }
            : { body: `Follow-up by \`${end.agent}\`: no change was needed or made.`, marker: `follow-up-${id}:no_changes` };
        await commentOnce(octokit, { owner, repo: name, issueNumber: task.pr_number, ...said }).catch((err: unknown) => {
          log.warn({ err }, "could not say the follow-up's end on the pull request; it is owed");
          unsaid = { ...said, issueNumber: task.pr_number as number };
        });
      }
    } catch (error) {
      if (controller.signal.aborted || error instanceof LeaseLost) {
        outcome = await stopped();
      } else {
        // The error may quote the agent: inert (no mention, issue reference or HTML) on the PR.
        const message = inertText(error instanceof Error ? error.message : String(error)).slice(0, 2000);
        log.error({ err: error }, "follow-up failed");
        await commentOnce(octokit, {
          owner,
          repo: name,
          issueNumber: task.pr_number,
          body: `The follow-up failed: ${message}`,
          marker: `follow-up-${id}:failed`,
        }).catch((err: unknown) => log.warn({ err }, "could not say that the follow-up failed"));
      }
    } finally {
      clearInterval(heartbeat);
      const label = completed ? (run.verification?.status ?? "no_verification") : STOPPED_OUTCOMES.includes(outcome) ? outcome : "failed";
      metrics.followUps.inc({ reason: job.trigger.type, outcome: label });
      await endFollowUp(deps.db, id, outcome);
      const owed = unsaid ? { reply_pending: oweReply((await getTask(deps.db, task.id))?.reply_pending ?? null, unsaid) } : {};
      const moved = await transition(deps.db, task.id, "pr_open", { actor: "worker", owner: this.owner, log }, owed);
      if (moved && unsaid) await addReplyJob(deps.jobs, task.id);
    }
    return { ran: true, outcome };
  }
}

/** The marker of the one comment saying that follow-up round `id` was cancelled (by its worker, or after it died). */
export function followUpCancelMarker(id: number): string {
  return `follow-up-${id}:cancelled`;
}

/** Whether a follow-up row is a round that never recorded its end (not the summary's record). */
export function isUnfinishedRound(row: { trigger: string; outcome: string | null }): boolean {
  return row.trigger !== "summary" && row.outcome === null;
}

/** A follow-up found its task running: the job fails this attempt and retries with the jobs port's backoff. */
export class TaskBusyError extends Error {
  constructor(taskId: number) {
    super(`task #${taskId} is still running; the follow-up retries when it is done`);
    this.name = "TaskBusyError";
  }
}

/** Why `dailyRunLimit` (agent runs here in the last 24 hours; 0: none) holds back one more run, or null. */
async function dailyRunLimitHold(deps: ExecutorDeps, repositoryId: number, limit: number): Promise<string | null> {
  if (limit <= 0) return null;
  const runs = await countRunsSince(deps.db, repositoryId, new Date(Date.now() - DAY_MS).toISOString());
  return runs >= limit ? `agents ran ${runs} times here in the last 24 hours (\`dailyRunLimit\`: ${limit})` : null;
}

/** Where a follow-up speaks: the bot's pull request. */
type PullRequestAt = { owner: string; repo: string; issueNumber: number };

/**
 * The one answer to a `/agent fix` or `/agent retry` on the PR that the comment handler answered
 * "Queued" and this job then refused (the PR merged or closed meanwhile, `dailyRunLimit`, the task
 * ended): the reason, inert, on the PR. Once per comment, across job retries (`commentOnce`'s
 * marker; a job queued without `commentId` answers once per task).
 * @throws the Octokit RequestError when GitHub cannot be reached (the job retries).
 */
async function replyRefused(
  octokit: Octokit,
  at: PullRequestAt,
  taskId: number,
  trigger: Extract<FollowUpTrigger, { type: "comment" }>,
  reason: string,
): Promise<void> {
  await commentOnce(octokit, {
    ...at,
    body: `The follow-up of task #${taskId} asked for with \`/agent\` on this pull request did not run: ${inertText(reason)}. Nothing was pushed.`,
    marker: `follow-up-${taskId}:refused:${trigger.commentId ?? "comment"}`,
  });
}

/**
 * Says on the PR that `dailyRunLimit` holds back a review's or red CI's round, once per hold: the
 * marker names the rounds done so far and only the last 24 hours (the limit's window) are searched,
 * so a busy PR's further events while the limit holds add nothing, and a later hold (after another
 * round, or a day on) is said again. The task stays `pr_open`: later events start rounds once the
 * limit allows.
 * @throws the Octokit RequestError when GitHub cannot be reached (the job retries).
 */
async function sayHeld(octokit: Octokit, at: PullRequestAt, taskId: number, rounds: number, reason: string): Promise<void> {
  await commentOnce(octokit, {
    ...at,
    body: `No follow-up round starts now: ${inertText(reason)}. Nothing is lost: a later review, red CI or \`/agent fix\` on this pull request starts a round once the limit allows.`,
    marker: `follow-up-${taskId}:run-limit:${rounds}`,
    since: new Date(Date.now() - DAY_MS).toISOString(),
  });
}

/** The prompt's account of why this follow-up runs. */
function reasonOf(trigger: FollowUpTrigger, headSha: string): FollowUpReason {
  if (trigger.type === "review") return { type: "review", reviewId: trigger.reviewId };
  if (trigger.type === "ci")
    return { type: "ci", check: { name: trigger.checkName, headSha: trigger.headSha || headSha, conclusion: "failure" } };
  return { type: "comment" };
}
