import { planPush } from "../scheduler/push-scan.js";
import { upsertRepository } from "../store/repositories.js";
import type { Handler } from "./types.js";

/**
 * `push`: a push to the default branch queues a TODO rescan of the files it changed (and re-reads the
 * config when it changed `.github/backlog-bot.yml`). Only the plan is made here; the mirror fetch and
 * scan run on the scheduler's queue, so the delivery answers within GitHub's 10-second limit
 * (https://docs.github.com/en/webhooks/using-webhooks/best-practices-for-using-webhooks#respond-within-10-seconds).
 */
export const onPush: Handler<"push"> = async (context, deps, log) => {
  const payload = context.payload;
  const repository = payload.repository;
  if (payload.deleted || payload.ref !== `refs/heads/${repository.default_branch}`) return;
  const scheduler = deps.scheduler;
  if (!scheduler) {
    log.warn("no scheduler configured; push not scanned");
    return;
  }
  const repo = await upsertRepository(deps.db, {
    fullName: repository.full_name,
    installationId: payload.installation?.id ?? null,
    defaultBranch: repository.default_branch,
    cloneUrl: repository.clone_url,
  });
  const plan = planPush(repo.id, payload);
  log.info({ after: plan.after, files: plan.touched.length, full: plan.full, configChanged: plan.configChanged }, "push scan queued");
  void scheduler.enqueuePushScan(repo, plan);
};
