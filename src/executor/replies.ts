import type { GitHubAccess } from "../github/access.js";
import { commentOnce } from "../github/comments.js";
import type { Jobs } from "../jobs/types.js";
import type { Db } from "../store/db.js";
import { getRepositoryById } from "../store/repositories.js";
import { getTask } from "../store/tasks.js";
import type { Logger } from "../util/logger.js";

/** A reply owed on a task's issue: its text and the marker that makes it exactly-once. */
export interface Reply {
  body: string;
  marker: string;
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
 * Registers the `reply` job: posts the task's owed reply (`tasks.reply_pending`) on its issue once —
 * `commentOnce` finds a copy posted before a crash by its marker — then clears it, only if it is
 * still the same reply. At start, replies a crash left owed are queued again.
 */
export async function registerReplyJobs(deps: { db: Db; jobs: Jobs; github: GitHubAccess; log: Logger }): Promise<void> {
  deps.jobs.handle<ReplyJob>(
    "reply",
    async ({ taskId }, ctx) => {
      // A reply owed while this job ran found it pending, so its own job was deduped away: this job
      // posts that one too before it ends (each reply at most once, by its marker).
      for (let posted = new Set<string>(); ; ) {
        const task = await getTask(deps.db, taskId);
        if (!task?.reply_pending || task.issue_number === null || posted.has(task.reply_pending)) return;
        posted = new Set([...posted, task.reply_pending]);
        const reply = JSON.parse(task.reply_pending) as Reply;
        const repo = await getRepositoryById(deps.db, task.repository_id);
        if (!repo) return;
        const [owner = "", name = ""] = repo.full_name.split("/");
        const octokit = await deps.github.octokit(repo.installation_id);
        const fresh = await commentOnce(octokit, {
          owner,
          repo: name,
          issueNumber: task.issue_number,
          body: reply.body,
          marker: reply.marker,
          since: task.created_at,
        });
        await deps.db
          .updateTable("tasks")
          .set({ reply_pending: null })
          .where("id", "=", taskId)
          .where("reply_pending", "=", task.reply_pending)
          .execute();
        ctx.log.info({ taskId, marker: reply.marker, posted: fresh }, fresh ? "reply posted" : "reply was already posted");
      }
    },
    { concurrency: 2 },
  );
  const owed = await deps.db.selectFrom("tasks").select("id").where("reply_pending", "is not", null).execute();
  for (const { id } of owed) await addReplyJob(deps.jobs, id);
}
