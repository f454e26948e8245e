import { readFileAtCommit } from "../git/read-file.js";
import type { Db } from "../store/db.js";
import { getGitAttributes, recordGitAttributes } from "../store/git-attributes.js";
import type { Repository } from "../store/schema.js";
import type { Logger } from "../util/logger.js";

/** Where the ranking's Linguist rules live: the root `.gitattributes` (https://github.com/github-linguist/linguist/blob/main/docs/overrides.md). */
export const GITATTRIBUTES_PATH = ".gitattributes";
/** Larger files are not read (redis's is 1 KB, the Linux kernel's under 1 KB): such a file is not a rules file. */
export const MAX_GITATTRIBUTES_BYTES = 256 * 1024;

/**
 * Reads the root `.gitattributes` of `rev` in the repository's mirror and stores it for the
 * ranking (`rankingOptionsFor`); an absent file is stored as empty, so rules a commit removed stop
 * applying. Never throws: a failed read is logged and the stored rules stay until the next scan.
 * @returns whether the stored rules were replaced.
 */
export async function refreshGitAttributes(db: Db, repository: Repository, mirror: string, rev: string, log: Logger): Promise<boolean> {
  try {
    const read = await readFileAtCommit(mirror, rev, GITATTRIBUTES_PATH, MAX_GITATTRIBUTES_BYTES);
    await recordGitAttributes(db, repository.id, { commitId: read.commit, content: read.text ?? "" });
    log.debug({ commit: read.commit, bytes: read.text?.length ?? 0 }, ".gitattributes read for the ranking");
    return true;
  } catch (error) {
    log.warn({ err: error, rev }, "could not read .gitattributes; the ranking keeps the rules read before");
    return false;
  }
}

/** Whether a push scan should read `.gitattributes`: the push changed it, or no scan has read it yet (a store from before migration 0008). */
export async function attributesStale(db: Db, repositoryId: number, touched: readonly string[]): Promise<boolean> {
  return touched.includes(GITATTRIBUTES_PATH) || (await getGitAttributes(db, repositoryId)) === undefined;
}
