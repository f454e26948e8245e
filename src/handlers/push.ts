import { planPush } from "../scheduler/push-scan.js";
import { upsertRepository } from "../store/repositories.js";
import type { Handler } from "./types.js";

/**
 * `push`: a push to the default branch queues a TODO rescan of the files it changed (and re-reads the
 * config when it changed `.github/backlog-bot.yml`), on the repository's scheduler queue. This runs
 * in the delivery's job; the webhook was answered long before, within GitHub's 10-second limit
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
    githubId: repository.id,
    installationId: payload.installation?.id ?? null,
    defaultBranch: repository.default_branch,
    cloneUrl: repository.clone_url,
  });
  const plan = planPush(repo.id, payload);
  log.info({ after: plan.after, files: plan.touched.length, full: plan.full, configChanged: plan.configChanged }, "push scan queued");
  // Inside the delivery's job: the delivery is handled when its scan is done.
  await scheduler.enqueuePushScan(repo, plan);
};
