import { lastValidConfig } from "../config/load.js";
import type { RequestDeps } from "../executor/requests.js";
import type { Jobs } from "../jobs/types.js";
import { recordAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { getRepositoryById } from "../store/repositories.js";
import type { Repository } from "../store/schema.js";
import type { Logger } from "../util/logger.js";
import { runAutopilot } from "./autopilot.js";
import { requestDashboardSync } from "./dashboard.js";

/** The job kind that runs one autopilot slot of one repository. */
export const AUTOPILOT_JOB = "autopilot";
/** The audit action that marks a slot done: a slot's job that runs again (a twin added after the first ended) does nothing. */
export const AUTOPILOT_SLOT_ACTION = "autopilot.slot";

/** Payload of an `autopilot` job. */
export interface AutopilotJobPayload {
  repositoryId: number;
  /** The slot's scheduled time, to the minute, ISO (`slotOf`). */
  slot: string;
}

/**
 * A slot's identity: its scheduled time cut to the minute (cron's resolution), so the ticks of two
 * processes that both think they lead, or a tick fired a little late, name the same slot.
 */
export function slotOf(scheduled: Date): string {
  return new Date(Math.floor(scheduled.getTime() / 60_000) * 60_000).toISOString();
}

/**
 * Enqueues one autopilot slot of a repository: dedupe key per repository and slot (a second tick
 * for the slot while the first job is pending or running is a no-op), one queue per repository (its
 * slots never run at once). What the cron callback does, and all it does.
 * @throws when the store cannot be written (the cron callback logs it; the next slot tries again).
 */
export async function enqueueAutopilot(jobs: Pick<Jobs, "add">, repository: Repository, scheduled: Date): Promise<string> {
  const slot = slotOf(scheduled);
  return jobs.add<AutopilotJobPayload>({
    kind: AUTOPILOT_JOB,
    payload: { repositoryId: repository.id, slot },
    key: `autopilot:${repository.id}:${slot}`,
    queue: `autopilot:${repository.id}`,
  });
}

async function slotDone(db: Db, repository: string, slot: string): Promise<boolean> {
  const row = await db
    .selectFrom("audit")
    .select("id")
    .where("repository", "=", repository)
    .where("action", "=", AUTOPILOT_SLOT_ACTION)
    .where("target", "=", `slot:${slot}`)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Registers the `autopilot` handler: unless the slot is already done or the repository's
 * installation is suspended (the slot then passes, starting nothing), runs `runAutopilot` with the
 * repository's last valid config, marks the slot done (an `autopilot.slot` audit row with the tasks
 * started) and asks for a dashboard re-render when it started any. A crash or error mid-pick
 * retries the job: the tasks already queued count against `maxTasksPerDay` and are not picked twice
 * (one open task per finding), so the retry starts only what is left.
 */
export function handleAutopilotJobs(jobs: Pick<Jobs, "handle" | "add">, deps: { db: Db; requests: RequestDeps }): void {
  jobs.handle<AutopilotJobPayload>(
    AUTOPILOT_JOB,
    async ({ repositoryId, slot }, context) => {
      const repository = await getRepositoryById(deps.db, repositoryId);
      if (!repository) return;
      const log: Logger = context.log.child({ repo: repository.full_name, slot });
      if (repository.suspended_at !== null) {
        // Tasks started now would only wait for `installation.unsuspend`: the slot passes.
        log.info("installation suspended; autopilot slot skipped");
        return;
      }
      if (await slotDone(deps.db, repository.full_name, slot)) {
        log.info("autopilot slot already done; nothing to start");
        return;
      }
      const started = await runAutopilot({ db: deps.db, requests: deps.requests, log }, repository, lastValidConfig(repository));
      await recordAudit(deps.db, {
        actor: "backlog-bot",
        action: AUTOPILOT_SLOT_ACTION,
        repository: repository.full_name,
        target: `slot:${slot}`,
        outcome: "ok",
        detail: { tasks: started.map((t) => t.id) },
      });
      if (started.length > 0) await requestDashboardSync(jobs, repository);
    },
    { concurrency: 1 },
  );
}
