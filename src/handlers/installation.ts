import { removeMirror } from "../git/workspace.js";
import { removeRepository, upsertRepository } from "../store/repositories.js";
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
