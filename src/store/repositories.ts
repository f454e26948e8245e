import { type Db, now } from "./db.js";
import type { Repository } from "./schema.js";

/** What the app knows of a repository when it first meets it (installation event, webhook, CLI). */
export interface RepositoryInput {
  fullName: string;
  installationId?: number | null;
  defaultBranch?: string;
  cloneUrl?: string | null;
}

/** Inserts the repository or refreshes what changed; returns the stored row. */
export async function upsertRepository(db: Db, input: RepositoryInput): Promise<Repository> {
  const at = now();
  const changes = {
    updated_at: at,
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
