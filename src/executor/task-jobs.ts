import type { JobContext, Jobs } from "../jobs/types.js";
import { requestDashboardSync } from "../scheduler/dashboard.js";
import { endUnfinishedFollowUps, listFollowUps } from "../store/follow-ups.js";
import { getRepositoryById } from "../store/repositories.js";
import type { Repository, Task, TaskState } from "../store/schema.js";
import { claimTask, getTask, orphanedTasks, renewLease, transition, unclaimedQueuedTasks } from "../store/tasks.js";
import { BacklogBotError } from "../util/errors.js";
import { tailLines } from "../util/exec.js";
import { type Logger, redactSecrets } from "../util/logger.js";
import { newOwnerId } from "../util/owner.js";
import { followUpCancelMarker, isUnfinishedRound } from "./follow-up-jobs.js";
import { inertText, requester } from "./pull-request.js";
import { addReplyJob, oweReply, type Reply } from "./replies.js";
import { branchName, type ExecutorDeps, LeaseLost, type RunEnd, runTaskSteps, TaskFailure, type TaskRun } from "./run-task.js";

/** Payload of a `task.run` job. */
export interface TaskRunJob {
  taskId: number;
}

/** Queues the run of a task (deduped per task while pending); any process with the store may call it (the CLI does). */
export async function enqueueTaskRun(jobs: Pick<Jobs, "add">, taskId: number): Promise<void> {
  await jobs.add<TaskRunJob>({ kind: "task.run", payload: { taskId }, key: `task:${taskId}`, maxAttempts: 20 });
}

/** Why a run's signal aborted. */
type StopReason = "shutdown" | "cancel" | "lease";

/** How often (ms) a running task renews its lease and looks for a cancel request, at most. */
const HEARTBEAT_MAX_MS = 2_000;

/**
 * Runs tasks as `task.run` jobs. A job claims its task with an owner-checked lease (so a job run
 * twice after a crash cannot double a task), renews the lease on a heartbeat, and aborts its run
 * when the lease is lost or a cancel was asked. Every end is one owner-checked transition that
 * also records the reply owed on the issue; the reply is posted by its own job.
 */
export class TaskRunner {
  /** This process's lease owner id. */
  readonly owner = newOwnerId();
  private readonly local = new Map<number, AbortController>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ExecutorDeps) {}

  /** Registers the job handlers and starts the sweep that finds tasks whose worker died. */
  async start(): Promise<void> {
    this.deps.jobs.handle<TaskRunJob>("task.run", (payload, ctx) => this.runJob(payload.taskId, ctx), {
      concurrency: this.deps.settings.concurrency,
    });
    await this.sweep();
    this.sweepTimer = setInterval(
      () => {
        this.sweep().catch((err: unknown) => this.deps.log.error({ err }, "task sweep failed"));
      },
      Math.min(this.deps.settings.leaseMs, 30_000),
    );
    this.sweepTimer.unref();
  }

  stop(): void {
    clearInterval(this.sweepTimer);
  }

  /** Queues the run of a task (deduped per task). */
  async enqueue(taskId: number): Promise<void> {
    await enqueueTaskRun(this.deps.jobs, taskId);
  }

  /** Aborts the run of `taskId` if it runs in this process (cancel); other processes see the request on their heartbeat. */
  abortLocal(taskId: number): boolean {
    const controller = this.local.get(taskId);
    controller?.abort("cancel");
    return controller !== undefined;
  }

  /**
   * Tasks whose worker died get a new job at once (dead process of this host) or after their lease
   * (other hosts); tasks queued for a lease period and never claimed get their job again, in case a
   * crash lost it (a pending job dedupes the add).
   */
  async sweep(): Promise<void> {
    for (const task of await orphanedTasks(this.deps.db, this.owner)) {
      this.deps.log.warn({ taskId: task.id, owner: task.lease_owner }, "task's worker is gone; queueing it again");
      await this.enqueue(task.id);
    }
    const waiting = await unclaimedQueuedTasks(this.deps.db, this.deps.settings.leaseMs);
    for (const task of waiting) await this.enqueue(task.id);
    if (waiting.length > 0)
      this.deps.log.debug({ taskIds: waiting.map((t) => t.id) }, "unclaimed queued tasks offered to the job queue again");
  }

  private async runJob(taskId: number, ctx: JobContext): Promise<void> {
    const { deps } = this;
    const log = ctx.log.child({ taskId });
    if (this.local.has(taskId)) {
      // Running here already under another job (a sweep's re-add after a stall): claimTask would
      // hand this process's own lease to a second run beside it.
      log.warn("task is already running in this process; this job leaves it to that run");
      return;
    }
    const task = await claimTask(deps.db, taskId, this.owner, deps.settings.leaseMs);
    if (!task) {
      log.info("task is not claimable (ended, or held by a live worker); nothing to do");
      return;
    }
    if (task.pr_number !== null) {
      // A task that has its pull request runs again only as a follow-up round (the first run records
      // the pull request as it ends), so this is a round whose worker died. Running the task itself
      // again would redo it from the default branch over the open pull request: the round ends as
      // interrupted instead (a cancel asked of it with it), and the next review or red CI starts another.
      // A cancel asked of that round is said on the pull request as the round's own worker would have
      // (its marker, so a worker that said it before it died is not repeated); else the round ends unsaid.
      const by = task.cancel_requested_by;
      const round = by ? (await listFollowUps(deps.db, task.id)).findLast(isUnfinishedRound) : undefined;
      const rounds = await endUnfinishedFollowUps(deps.db, task.id, "interrupted");
      const said =
        by && round
          ? {
              body: `The follow-up of task #${task.id} was cancelled by ${requester(by)}; its worker had stopped, and nothing more of the round runs.`,
              marker: followUpCancelMarker(round.id),
              issueNumber: task.pr_number,
            }
          : null;
      await this.end(task, "pr_open", said, { cancel_requested_by: null });
      log.warn({ rounds }, "a follow-up round's worker is gone; the round is recorded as interrupted and the pull request stands");
      return;
    }
    if (task.cancel_requested_by) {
      await this.end(task, "cancelled", { body: `Task #${task.id} was cancelled by ${requester(task.cancel_requested_by)}.` });
      return;
    }
    if (task.attempts > deps.settings.maxAttempts) {
      await this.end(task, "failed", failureReply(task, `the worker running it stopped ${task.attempts - 1} times; giving up`), {
        error: "worker stopped too often",
      });
      return;
    }
    const repo = await getRepositoryById(deps.db, task.repository_id);
    if (!repo) {
      await this.end(task, "failed", null, { error: "repository no longer installed" });
      return;
    }
    if (repo.suspended_at !== null) {
      // GitHub mints no token for a suspended installation. Not the task's fault: it waits, queued,
      // its claim's attempt given back (as a breaker deferral does), and `installation.unsuspend`
      // queues its run again; the sweep leaves it alone meanwhile (`unclaimedQueuedTasks`).
      await this.giveBack(task, log);
      log.info({ suspendedAt: repo.suspended_at }, "installation suspended; task held until it is unsuspended");
      return;
    }
    const adopted = task.pushed_sha !== null && task.branch ? await this.openPullRequestOf(task, repo, log) : undefined;
    if (adopted) {
      await this.end(
        task,
        "pr_open",
        { body: `Task #${task.id}: draft pull request ${adopted.url} is ready for review.` },
        { pr_number: adopted.number, pr_url: adopted.url },
      );
      log.warn({ pr: adopted.number }, "the last attempt opened its pull request before its worker died; the task takes it up");
      return;
    }
    const repoKey = `repo:${repo.id}`;
    const repoBreaker = await deps.breakers.check(repoKey);
    if (!repoBreaker.allowed) {
      // Not the task's fault: back to the queue, to run when the repository's breaker lets a trial
      // through. The claim counted an attempt, but no worker started: it is given back, so a task
      // deferred many times never ends "worker stopped too often". The key names the time, so this
      // job (still running, its key taken) does not swallow the deferral it adds.
      await this.giveBack(task, log);
      await deps.jobs.add<TaskRunJob>({
        kind: "task.run",
        payload: { taskId },
        key: `task:${taskId}:after-breaker:${repoBreaker.retryAt.getTime()}`,
        runAt: repoBreaker.retryAt,
      });
      log.warn({ retryAt: repoBreaker.retryAt }, "repository's circuit is open; task deferred");
      return;
    }

    // The dashboard's "In progress" moves it to running (debounced render).
    await requestDashboardSync(deps.jobs, repo);
    const controller = new AbortController();
    const stopWith = (reason: StopReason) => controller.abort(reason);
    const onShutdown = () => stopWith("shutdown");
    ctx.signal.addEventListener("abort", onShutdown, { once: true });
    this.local.set(task.id, controller);
    const heartbeat = setInterval(
      () => {
        renewLease(deps.db, task.id, this.owner, deps.settings.leaseMs)
          .then(async (held) => {
            if (held) return;
            const now = await getTask(deps.db, task.id);
            stopWith(now?.cancel_requested_by && now.lease_owner === this.owner ? "cancel" : "lease");
          })
          .catch((err: unknown) => log.warn({ err }, "could not renew the task lease"));
      },
      Math.min(deps.settings.leaseMs / 3, HEARTBEAT_MAX_MS),
    );
    heartbeat.unref();

    const [owner = "", name = ""] = repo.full_name.split("/");
    try {
      const run: TaskRun = {
        deps,
        task,
        repo,
        owner: this.owner,
        signal: controller.signal,
        log,
        github: { owner, name, octokit: await deps.github.octokit(repo.installation_id) },
        branch: task.branch ?? branchName(task),
        notes: [],
      };
      let end: RunEnd | undefined;
      let failure: unknown;
      try {
        end = await runTaskSteps(run);
      } catch (error) {
        failure = error;
      }
      const reason = controller.signal.aborted ? (controller.signal.reason as StopReason) : undefined;
      if (reason === "lease" || failure instanceof LeaseLost) {
        log.warn("lease lost: another worker owns this task now; stopping without a word");
        return;
      }
      if (reason === "shutdown") {
        await transition(deps.db, task.id, "queued", { actor: "worker", owner: this.owner, log });
        log.warn("task interrupted by shutdown; queued again");
        throw new BacklogBotError("INTERRUPTED", "interrupted by shutdown; the task runs again");
      }
      // A cancel that came once the pull request was opened is too late to stop it: the task ends with
      // its PR (below), and its reply says so.
      if (reason === "cancel" && end?.state !== "pr_open") {
        const by = (await getTask(deps.db, task.id))?.cancel_requested_by;
        await this.end(task, "cancelled", {
          body: `Task #${task.id} was cancelled by ${by ? requester(by) : "a maintainer"}; its agent was stopped.`,
        });
        return;
      }
      if (failure) {
        const infrastructure = !(failure instanceof TaskFailure) || failure.infrastructure;
        if (infrastructure) await deps.breakers.failure(repoKey, (failure as Error).message);
        // The task's own failure once the repository answered (its mirror fetched): the repository works.
        else if (run.mirror) await deps.breakers.success(repoKey);
        if (!(failure instanceof TaskFailure)) {
          // Infrastructure (GitHub down, git crashed): let the job retry while the task has attempts left.
          if (task.attempts < deps.settings.maxAttempts) {
            await transition(deps.db, task.id, "queued", { actor: "worker", owner: this.owner, log });
            throw failure;
          }
        }
        const message = redactSecrets(failure instanceof Error ? failure.message : String(failure));
        log.error({ err: failure }, "task failed");
        await this.end(task, "failed", failureReply(task, message), { error: message.slice(0, 4000) });
        return;
      }
      await deps.breakers.success(repoKey);
      if (end?.state === "no_changes") {
        await this.end(task, "no_changes", {
          body: `Task #${task.id}: \`${end.agent}\` finished without changing anything, so there is no pull request.${summaryBlock(end.summary)}`,
        });
      } else if (end?.state === "pr_open") {
        // A cancel asked as the run opened its PR (from this process, or another's on its way to the
        // heartbeat) came too late: the PR ready reply, the one end said, tells the person who asked.
        const by = (await getTask(deps.db, task.id))?.cancel_requested_by;
        const late = by
          ? `\n\nThe cancel asked by ${requester(by)} came after the pull request was opened; close the pull request to drop it.`
          : "";
        await this.end(
          task,
          "pr_open",
          { body: `Task #${task.id}: draft pull request ${end.pr.url} is ready for review.${late}` },
          { branch: run.branch, pr_number: end.pr.number, pr_url: end.pr.url, cancel_requested_by: null },
        );
      }
    } finally {
      clearInterval(heartbeat);
      ctx.signal.removeEventListener("abort", onShutdown);
      this.local.delete(task.id);
      // A trial that ended without a verdict (cancel, shutdown, lost lease, a failure before the
      // repository answered, an error thrown) gives it back; after success/failure this does nothing.
      if (repoBreaker.trial)
        await deps.breakers
          .release(repoKey)
          .catch((err: unknown) => log.warn({ err, breaker: repoKey }, "could not give back a breaker trial"));
    }
  }

  /**
   * The open pull request of the branch `task` last pushed, if any: an attempt that pushed, opened
   * its draft PR and died before it could record it (pr_number is written only as the task reaches
   * pr_open). Running the task again would redo the agent's work over that PR, and if the new run
   * ended otherwise (no change, a failure) the PR stayed open, unknown to the task. `undefined` when
   * there is none or GitHub cannot say (the task then runs as it would have).
   */
  private async openPullRequestOf(task: Task, repo: Repository, log: Logger): Promise<{ number: number; url: string } | undefined> {
    const [owner = "", name = ""] = repo.full_name.split("/");
    try {
      const octokit = await this.deps.github.octokit(repo.installation_id);
      const { data } = await octokit.rest.pulls.list({ owner, repo: name, head: `${owner}:${task.branch}`, state: "open", per_page: 1 });
      const found = data[0];
      return found ? { number: found.number, url: found.html_url } : undefined;
    } catch (error) {
      log.warn({ err: error }, "could not look for the pull request of the task's pushed branch; running the task");
      return undefined;
    }
  }

  /**
   * Puts a claimed task back to `queued` without counting the claim: nothing of the task ran (its
   * installation is suspended, or its repository's breaker is open), so a task held back many
   * times never ends "worker stopped too often".
   */
  private async giveBack(task: Task, log: Logger): Promise<void> {
    await transition(
      this.deps.db,
      task.id,
      "queued",
      { actor: "worker", owner: this.owner, log },
      { attempts: Math.max(0, task.attempts - 1) },
    );
  }

  /**
   * One owner-checked transition that also records the reply owed, after any still owed (none is
   * dropped); then queues the reply job. The reply goes on the task's issue unless it names where
   * (`issueNumber`), under its own marker if given.
   */
  private async end(
    task: Task,
    to: TaskState,
    reply: (Omit<Reply, "marker"> & { marker?: string }) | null,
    patch: Record<string, unknown> = {},
  ): Promise<void> {
    const { deps } = this;
    // The claim's time (`task` is the claimed row) tells this run's end from an earlier one with the same
    // attempt number: `/agent retry` counts attempts from 0 again, and commentOnce would take the old reply for this one.
    const claimedAt = Date.parse(task.updated_at);
    const owed =
      reply && (reply.issueNumber ?? task.issue_number) !== null
        ? { ...reply, marker: reply.marker ?? `task-${task.id}:${to}:${task.attempts}:${claimedAt}` }
        : null;
    // A reply still owed (an earlier attempt's end before `/agent retry`, GitHub down) stays owed beside this one.
    const pending = owed ? ((await getTask(deps.db, task.id))?.reply_pending ?? null) : null;
    const moved = await transition(
      deps.db,
      task.id,
      to,
      { actor: "worker", owner: this.owner, log: deps.log },
      { ...patch, ...(owed && { reply_pending: oweReply(pending, owed) }) },
    );
    if (!moved) {
      deps.log.warn({ taskId: task.id, to }, "task moved by someone else first; this end is not recorded");
      return;
    }
    if (moved.reply_pending !== null) await addReplyJob(deps.jobs, task.id);
    // The dashboard shows tasks by state (issue 9): re-render it (debounced).
    const repository = await getRepositoryById(deps.db, task.repository_id);
    if (repository) await requestDashboardSync(deps.jobs, repository);
  }
}

function failureReply(task: Task, message: string): Omit<Reply, "marker"> {
  return { body: `Task #${task.id} failed: ${fence(message)}` };
}

/** An error for a comment: its first line made inert (it may quote the agent) and at most 500 characters, the rest as code. */
function fence(text: string): string {
  const [head = "", ...rest] = text.split("\n");
  const first = inertText(head.length > 500 ? `${head.slice(0, 499)}…` : head);
  return rest.length ? `${first}\n\n\`\`\`\n${tailLines(rest.join("\n"), 30).replace(/```/g, "ˋˋˋ")}\n\`\`\`` : first;
}

/** The agent's words for a comment, quoted and inert (no mention, issue reference or HTML). */
function summaryBlock(summary: string): string {
  const text = inertText(summary).trim();
  return text
    ? `\n\nWhat it said:\n${text
        .slice(0, 2000)
        .split("\n")
        .map((l) => `> ${l}`)
        .join("\n")}`
    : "";
}
