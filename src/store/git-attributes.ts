import { type Db, now } from "./db.js";

/** A repository's stored root `.gitattributes` (table `git_attributes`, migration 0008). */
export interface StoredGitAttributes {
  /** The commit of the default branch it was read at. */
  commitId: string;
  /** The file's text; empty when that commit has none. */
  content: string;
  /** ISO time of the read. */
  readAt: string;
}

/** The repository's stored `.gitattributes`, or undefined when no scan has read it yet. */
export async function getGitAttributes(db: Db, repositoryId: number): Promise<StoredGitAttributes | undefined> {
  const row = await db
    .selectFrom("git_attributes")
    .select(["commit_id", "content", "read_at"])
    .where("repository_id", "=", repositoryId)
    .executeTakeFirst();
  return row && { commitId: row.commit_id, content: row.content, readAt: row.read_at };
}

/** Records what a scan read (an absent file as empty text), replacing the previous read. */
export async function recordGitAttributes(db: Db, repositoryId: number, read: { commitId: string; content: string }): Promise<void> {
  const values = { commit_id: read.commitId, content: read.content, read_at: now() };
  await db
    .insertInto("git_attributes")
    .values({ repository_id: repositoryId, ...values })
    .onConflict((oc) => oc.column("repository_id").doUpdateSet(values))
    .execute();
}
