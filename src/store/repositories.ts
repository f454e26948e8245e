import { type Db, now } from "./db.js";
import type { Repository } from "./schema.js";

/** What the app knows of a repository when it first meets it (installation event, webhook, CLI). */
export interface RepositoryInput {
  fullName: string;
  installationId?: number | null;
  defaultBranch?: string;
  cloneUrl?: string | null;
  /**
   * GitHub's repository id (`repository.id` of a webhook payload or `GET /repos/{owner}/{repo}`);
   * absent for a local checkout, or when a payload lacks it (nothing is then recorded or followed).
   */
  githubId?: number | null;
}

/**
 * Inserts the repository or refreshes what changed; returns the stored row. With `githubId`, a row
 * already stored under that id but another name is renamed first (see {@link renameRepository}), so a
 * repository renamed or transferred on GitHub keeps its one row (tasks, findings, dashboard issue,
 * limits). When no row has the id, the row holding `fullName` records it, replacing any id it had: a
 * name is one repository at a time, and keeping the row (as before ids were recorded) destroys
 * nothing when GitHub's own example payloads give one name several ids.
 * @throws the store's error when a concurrent write took the name or id first (the caller's job retries).
 */
export async function upsertRepository(db: Db, input: RepositoryInput): Promise<Repository> {
  const githubId = typeof input.githubId === "number" ? input.githubId : undefined;
  if (githubId !== undefined) {
    const known = await getRepositoryByGithubId(db, githubId);
    if (known && known.full_name !== input.fullName) await renameRepository(db, known.id, input.fullName);
  }
  const at = now();
  const changes = {
    updated_at: at,
    ...(githubId !== undefined && { github_id: githubId }),
    ...(input.installationId !== undefined && { installation_id: input.installationId }),
    ...(input.defaultBranch !== undefined && { default_branch: input.defaultBranch }),
    ...(input.cloneUrl !== undefined && { clone_url: input.cloneUrl }),
  };
  return db
    .insertInto("repositories")
    .values({
      full_name: input.fullName,
      installation_id: input.installationId ?? null,
      default_branch: input.defaultBranch ?? "main",
      clone_url: input.cloneUrl ?? null,
      ...(githubId !== undefined && { github_id: githubId }),
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) => oc.column("full_name").doUpdateSet(changes))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getRepository(db: Db, fullName: string): Promise<Repository | undefined> {
  return db.selectFrom("repositories").selectAll().where("full_name", "=", fullName).executeTakeFirst();
}

/** The row of GitHub repository `githubId` (its numeric id, whatever its name is now). */
export async function getRepositoryByGithubId(db: Db, githubId: number): Promise<Repository | undefined> {
  return db.selectFrom("repositories").selectAll().where("github_id", "=", githubId).executeTakeFirst();
}

/**
 * Gives row `id` the name `fullName` (and `githubId`, when given), in one transaction. Another row
 * still holding `fullName` is deleted with its findings and tasks: GitHub names are unique, so it
 * names a repository that is no longer there under that name (a duplicate made by a delivery that
 * came before the rename was known, or a repository since renamed away, deleted or transferred),
 * as `installation_repositories.removed` deletes a row. Its mirror has the same path as the new
 * name's: the caller removes it (`removeMirror`).
 * @returns the renamed row, or undefined when row `id` does not exist.
 */
export async function renameRepository(db: Db, id: number, fullName: string, githubId?: number): Promise<Repository | undefined> {
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom("repositories").where("full_name", "=", fullName).where("id", "!=", id).execute();
    return trx
      .updateTable("repositories")
      .set({ full_name: fullName, updated_at: now(), ...(githubId !== undefined && { github_id: githubId }) })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
  });
}

export async function getRepositoryById(db: Db, id: number): Promise<Repository | undefined> {
  return db.selectFrom("repositories").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function listRepositories(db: Db): Promise<Repository[]> {
  return db.selectFrom("repositories").selectAll().orderBy("full_name").execute();
}

/**
 * Records the outcome of reading a repository's config: a valid config replaces the stored one and
 * clears the error; an invalid one keeps the last valid config and records the error.
 * @returns whether `error` differs from the error stored before (so maintainers are told once per distinct error).
 */
export async function recordConfig(
  db: Db,
  id: number,
  result: { config: unknown } | { error: string },
): Promise<{ errorChanged: boolean }> {
  const before = await db.selectFrom("repositories").select("config_error").where("id", "=", id).executeTakeFirst();
  const patch = "error" in result ? { config_error: result.error } : { config: JSON.stringify(result.config), config_error: null };
  await db
    .updateTable("repositories")
    .set({ ...patch, updated_at: now() })
    .where("id", "=", id)
    .execute();
  const error = "error" in result ? result.error : null;
  return { errorChanged: (before?.config_error ?? null) !== error };
}

export async function removeRepository(db: Db, fullName: string): Promise<void> {
  await db.deleteFrom("repositories").where("full_name", "=", fullName).execute();
}

/**
 * Records that GitHub App installation `installationId` was suspended (`at`, ISO) or is no longer
 * (`at` null) on every repository row of it: `installation.suspend` / `installation.unsuspend`
 * (https://docs.github.com/en/webhooks/webhook-events-and-payloads#installation). A row already
 * suspended keeps its first time.
 * @returns the rows that changed (none when the installation was already in that state or has no rows).
 */
export async function setInstallationSuspended(db: Db, installationId: number, at: string | null): Promise<Repository[]> {
  return db
    .updateTable("repositories")
    .set({ suspended_at: at, updated_at: now() })
    .where("installation_id", "=", installationId)
    .where("suspended_at", at === null ? "is not" : "is", null)
    .returningAll()
    .execute();
}

/** Whether the store knows installation `installationId` as suspended (any of its rows marked). */
export async function isInstallationSuspended(db: Db, installationId: number): Promise<boolean> {
  const row = await db
    .selectFrom("repositories")
    .select("id")
    .where("installation_id", "=", installationId)
    .where("suspended_at", "is not", null)
    .executeTakeFirst();
  return row !== undefined;
}
