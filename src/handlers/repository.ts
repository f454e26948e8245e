import { removeMirror } from "../git/workspace.js";
import { getRepository, getRepositoryByGithubId, renameRepository } from "../store/repositories.js";
import type { Logger } from "../util/logger.js";
import type { Handler, HandlerDeps } from "./types.js";

/** The repository fields of a webhook payload read here; `id` is checked, as a malformed payload may lack it. */
export interface PayloadRepository {
  id?: unknown;
  full_name: string;
  name?: string;
}

/**
 * Makes the stored row of a repository carry the name a payload gives it, when GitHub renamed or
 * transferred it: the row is found by GitHub's repository id (`repository.id`), or, when no row
 * has recorded the id yet, by `previousName` (what a `repository.renamed` or `.transferred`
 * payload's `changes` say it was called). The mirrors under the old and the new name are removed
 * first (a crash before the rename leaves the row as it was and the retried delivery does it all
 * again), so no clone lingers under the old name and none of another repository that held the new
 * one is reused; the next fetch clones afresh. Scheduled scans follow the new name.
 * @returns whether a row was renamed.
 * @throws the store's or the file system's error (the delivery's job retries).
 */
export async function followRepositoryName(
  deps: Pick<HandlerDeps, "db" | "settings" | "scheduler">,
  repository: PayloadRepository,
  log: Logger,
  previousName?: string,
): Promise<boolean> {
  const githubId = typeof repository.id === "number" && Number.isSafeInteger(repository.id) ? repository.id : undefined;
  let row = githubId === undefined ? undefined : await getRepositoryByGithubId(deps.db, githubId);
  if (!row && previousName) {
    const named = await getRepository(deps.db, previousName);
    // A row that already records another id is another repository.
    if (named && (named.github_id === null || githubId === undefined)) row = named;
  }
  if (!row || row.full_name === repository.full_name) return false;
  await removeMirror(deps.settings.dataDir, row.full_name);
  await removeMirror(deps.settings.dataDir, repository.full_name);
  await renameRepository(deps.db, row.id, repository.full_name, githubId);
  log.info({ from: row.full_name, to: repository.full_name, repositoryId: row.id, githubId }, "repository renamed");
  void deps.scheduler?.sync().catch((err: unknown) => log.warn({ err }, "could not reschedule the renamed repository"));
  return true;
}

/**
 * `repository.renamed`: the row, its findings, tasks, dashboard issue and limits carry over to the
 * new name (https://docs.github.com/en/webhooks/webhook-events-and-payloads#repository: `changes.repository.name.from`
 * is the old name; `repository` is as it is now).
 */
export const onRepositoryRenamed: Handler<"repository.renamed"> = async (context, deps, log) => {
  const { repository, changes } = context.payload;
  const from = changes?.repository?.name?.from;
  await followRepositoryName(deps, repository, log, from ? `${repository.owner.login}/${from}` : undefined);
};

/**
 * `repository.transferred`: as a rename, to another owner
 * (https://docs.github.com/en/webhooks/webhook-events-and-payloads#repository: `changes.owner.from` is
 * the old owner, a `user` or an `organization`).
 */
export const onRepositoryTransferred: Handler<"repository.transferred"> = async (context, deps, log) => {
  const { repository, changes } = context.payload;
  const from = changes?.owner?.from;
  const owner = from?.user?.login ?? from?.organization?.login;
  await followRepositoryName(deps, repository, log, owner ? `${owner}/${repository.name}` : undefined);
};
