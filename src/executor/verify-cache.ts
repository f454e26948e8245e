import { createHash } from "node:crypto";
import type { Db } from "../store/db.js";
import type { VerifyPlan } from "./verify-detect.js";
import type { SuiteRun } from "./verify-suite.js";

/**
 * The base commit's test results, cached per repository, base SHA and command: every task of a
 * busy repository starts from the same few base commits, so the before-run is paid once per base
 * (issue 10). Only complete runs are cached; a timeout or a failed install may be the machine's
 * fault and is tried again next time.
 */

/** A stable key for the plan's commands (setup, command, report arguments): a changed command misses the cache. */
export function commandKey(plan: VerifyPlan): string {
  const junit = plan.junit?.kind === "file" ? plan.junit.args("<report>") : plan.junit ? [plan.junit.dir] : [];
  return createHash("sha256")
    .update(JSON.stringify({ setup: plan.setup, command: plan.command, junit, version: 1 }))
    .digest("hex");
}

/** Whether a base run may be reused: it finished (passing or failing), and its setup worked. */
export function isCacheable(run: SuiteRun): boolean {
  return !run.timedOut && run.failedStep !== "setup" && run.exitCode !== null;
}

/** The cached base run, or null. A row that no longer parses is treated as a miss. */
export async function getCachedBaseRun(db: Db, repositoryId: number, baseSha: string, key: string): Promise<SuiteRun | null> {
  const row = await db
    .selectFrom("verify_cache")
    .select("result")
    .where("repository_id", "=", repositoryId)
    .where("base_sha", "=", baseSha)
    .where("command_key", "=", key)
    .executeTakeFirst();
  if (!row) return null;
  try {
    return JSON.parse(row.result) as SuiteRun;
  } catch {
    return null;
  }
}

/** Stores a base run (replacing an older one for the same key); runs that are not cacheable are ignored. */
export async function putCachedBaseRun(db: Db, repositoryId: number, baseSha: string, key: string, run: SuiteRun): Promise<void> {
  if (!isCacheable(run)) return;
  const result = JSON.stringify(run);
  const createdAt = new Date().toISOString();
  await db
    .insertInto("verify_cache")
    .values({ repository_id: repositoryId, base_sha: baseSha, command_key: key, result, created_at: createdAt })
    .onConflict((oc) => oc.columns(["repository_id", "base_sha", "command_key"]).doUpdateSet({ result, created_at: createdAt }))
    .execute();
}

/** Deletes entries older than `before` (ISO time); returns how many. Base commits age out as branches move on. */
export async function pruneVerifyCache(db: Db, before: string): Promise<number> {
  const result = await db.deleteFrom("verify_cache").where("created_at", "<", before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
