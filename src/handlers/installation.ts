import { queueOwedReplies } from "../executor/replies.js";
import { removeMirror } from "../git/workspace.js";
import { now } from "../store/db.js";
import { listRepositories, removeRepository, setInstallationSuspended, upsertRepository } from "../store/repositories.js";
import { listTasks } from "../store/tasks.js";
import type { Handler } from "./types.js";

/** `installation_repositories.added` / `installation.created`: remember the repositories we may work on. */
export const onRepositoriesAdded: Handler<"installation.created" | "installation_repositories.added"> = async (context, deps, log) => {
  const payload = context.payload;
  const added = "repositories_added" in payload ? payload.repositories_added : (payload.repositories ?? []);
  const stored = [];
  for (const repo of added) {
    stored.push(await upsertRepository(deps.db, { fullName: repo.full_name, installationId: payload.installation.id, githubId: repo.id }));
  }
  log.info({ count: added.length }, "repositories added");
  // The first full scan right away (issue 9), queued like any scan; the schedule applies after.
  for (const repository of stored) {
    void deps.scheduler?.scanNow(repository).catch((err: unknown) => log.warn({ err, repo: repository.full_name }, "first scan failed"));
  }
  // Schedule their scans now rather than at the scheduler's next periodic sync.
  void deps.scheduler?.sync().catch((err) => log.warn({ err }, "could not schedule the new repositories"));
};

/** `installation_repositories.removed` / `installation.deleted`: forget them (their findings go too) and delete their mirrors. */
export const onRepositoriesRemoved: Handler<"installation.deleted" | "installation_repositories.removed"> = async (context, deps, log) => {
  const payload = context.payload;
  const removed = "repositories_removed" in payload ? payload.repositories_removed : (payload.repositories ?? []);
  for (const repo of removed) {
    await removeRepository(deps.db, repo.full_name);
    await removeMirror(deps.settings.dataDir, repo.full_name);
  }
  log.info({ count: removed.length }, "repositories removed");
};

/**
 * `installation.suspend`: the owner suspended the app, and GitHub mints no installation token until
 * it is unsuspended (https://docs.github.com/en/webhooks/webhook-events-and-payloads#installation,
 * https://docs.github.com/en/apps/maintaining-github-apps/suspending-a-github-app-installation).
 * Marks the installation's repositories suspended and drops their scheduled scans: while marked,
 * nothing of them asks GitHub (scans, dashboard syncs and autopilot slots are skipped; queued tasks,
 * follow-ups and replies owed on issues wait, costing no attempt; deliveries naming the installation start nothing, src/app.ts).
 */
export const onInstallationSuspended: Handler<"installation.suspend"> = async (context, deps, log) => {
  const { installation } = context.payload;
  const at = typeof installation.suspended_at === "string" ? installation.suspended_at : now();
  const marked = await setInstallationSuspended(deps.db, installation.id, at);
  log.info({ installationId: installation.id, repositories: marked.length }, "installation suspended; its work waits");
  await deps.scheduler?.sync();
};

/**
 * `installation.unsuspend`: clears the mark, schedules the installation's repositories again and
 * scans each now (as `installation.created` does; the scan's end re-renders the dashboard), and
 * queues a run of every task that waited and the reply of every task whose end was not said yet
 * (a reply job holds while suspended). Held follow-ups run at their next check
 * (`SUSPENDED_RECHECK_MS`, src/executor/follow-up-jobs.ts).
 */
export const onInstallationUnsuspended: Handler<"installation.unsuspend"> = async (context, deps, log) => {
  const installationId = context.payload.installation.id;
  await setInstallationSuspended(deps.db, installationId, null);
  const repositories = (await listRepositories(deps.db)).filter((r) => r.installation_id === installationId);
  const waiting = [];
  for (const r of repositories) waiting.push(...(await listTasks(deps.db, { repositoryId: r.id, states: ["queued"], limit: 10_000 })));
  for (const task of waiting) await deps.requests.runner.enqueue(task.id);
  const replies = await queueOwedReplies(
    deps.db,
    deps.requests.jobs,
    repositories.map((r) => r.id),
  );
  log.info(
    { installationId, repositories: repositories.length, tasks: waiting.length, replies },
    "installation unsuspended; its work resumes",
  );
  for (const repository of repositories) {
    void deps.scheduler
      ?.scanNow(repository)
      .catch((err: unknown) => log.warn({ err, repo: repository.full_name }, "scan after unsuspend failed"));
  }
  await deps.scheduler?.sync();
};
