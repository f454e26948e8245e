import type { GitHubAccess } from "../github/access.js";
import { commentOnce } from "../github/comments.js";
import type { Jobs } from "../jobs/types.js";
import type { Db } from "../store/db.js";
import { getRepositoryById } from "../store/repositories.js";
import { getTask } from "../store/tasks.js";
import type { Logger } from "../util/logger.js";

/** A reply owed on a task's issue (or its pull request): its text and the marker that makes it exactly-once. */
export interface Reply {
  body: string;
  marker: string;
  /** Where it is said, when not on the task's issue: its pull request (a follow-up round's end). */
  issueNumber?: number;
}

/** The replies a task owes, oldest first, as `tasks.reply_pending` holds them (one reply, or a list of them). */
export function owedReplies(pending: string | null): Reply[] {
  if (!pending) return [];
  const parsed = JSON.parse(pending) as Reply | Reply[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

/**
 * `tasks.reply_pending` owing `reply` after the replies already owed (`pending`), which stay owed:
 * a new end must not silence an earlier one not yet said (GitHub down). A reply of the same marker
 * is owed once.
 */
export function oweReply(pending: string | null, reply: Reply): string {
  const earlier = owedReplies(pending).filter((r) => r.marker !== reply.marker);
  return JSON.stringify(earlier.length === 0 ? reply : [...earlier, reply]);
}

/** Payload of a `reply` job. */
export interface ReplyJob {
  taskId: number;
}

/** Queues the posting of the reply a task owes (deduped per task while pending). */
export async function addReplyJob(jobs: Jobs, taskId: number): Promise<void> {
  await jobs.add<ReplyJob>({ kind: "reply", payload: { taskId }, key: `reply:${taskId}`, maxAttempts: 12 });
}

/**
 * Queues the reply job of every task that owes one (of the given repositories; default all): at
 * start, for replies a crash left owed, and at `installation.unsuspend`, for replies held meanwhile.
 */
export async function queueOwedReplies(db: Db, jobs: Jobs, repositoryIds?: readonly number[]): Promise<number> {
  if (repositoryIds?.length === 0) return 0;
  let query = db.selectFrom("tasks").select("id").where("reply_pending", "is not", null);
  if (repositoryIds) query = query.where("repository_id", "in", repositoryIds);
  const owed = await query.execute();
  for (const { id } of owed) await addReplyJob(jobs, id);
  return owed.length;
}

/**
 * Registers the `reply` job: posts the task's owed replies (`tasks.reply_pending`, oldest first) on
 * its issue (or where each reply names) once each —
 * `commentOnce` finds a copy posted before a crash by its marker — then clears them, only if they are
 * still the same replies. While the repository's installation is suspended (GitHub mints it no token)
 * the reply stays owed and the job ends without asking GitHub: `installation.unsuspend` queues it
 * again. At start, replies a crash left owed are queued again.
 */
export async function registerReplyJobs(deps: { db: Db; jobs: Jobs; github: GitHubAccess; log: Logger }): Promise<void> {
  deps.jobs.handle<ReplyJob>(
    "reply",
    async ({ taskId }, ctx) => {
      // A reply owed while this job ran found it pending, so its own job was deduped away: this job
      // posts that one too before it ends (each reply at most once, by its marker).
      for (let posted = new Set<string>(); ; ) {
        const task = await getTask(deps.db, taskId);
        if (!task?.reply_pending || posted.has(task.reply_pending)) return;
        posted = new Set([...posted, task.reply_pending]);
        const repo = await getRepositoryById(deps.db, task.repository_id);
        if (!repo) return;
        if (repo.suspended_at !== null) {
          // Retrying would spend the job's attempts against a refused token, and the reply would stay owed
          // with no job until the next start: it waits, owed, for `installation.unsuspend`.
          ctx.log.info({ taskId, suspendedAt: repo.suspended_at }, "installation suspended; reply held until it is unsuspended");
          return;
        }
        const [owner = "", name = ""] = repo.full_name.split("/");
        const octokit = await deps.github.octokit(repo.installation_id);
        // Oldest first; each once by its marker, so a retry after a failed post repeats none said before it.
        for (const reply of owedReplies(task.reply_pending)) {
          const issueNumber = reply.issueNumber ?? task.issue_number;
          if (issueNumber === null) continue;
          const fresh = await commentOnce(octokit, {
            owner,
            repo: name,
            issueNumber,
            body: reply.body,
            marker: reply.marker,
            since: task.created_at,
          });
          ctx.log.info({ taskId, marker: reply.marker, posted: fresh }, fresh ? "reply posted" : "reply was already posted");
        }
        await deps.db
          .updateTable("tasks")
          .set({ reply_pending: null })
          .where("id", "=", taskId)
          .where("reply_pending", "=", task.reply_pending)
          .execute();
      }
    },
    { concurrency: 2 },
  );
  await queueOwedReplies(deps.db, deps.jobs);
}
