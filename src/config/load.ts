import type { Context } from "probot";
import type { Db } from "../store/db.js";
import { recordConfig } from "../store/repositories.js";
import type { Repository } from "../store/schema.js";
import type { Logger } from "../util/logger.js";
import { DEFAULT_CONFIG, type RepoConfig, repoConfigSchema } from "./schema.js";

/** Path of the repository config, relative to `.github/` (Probot's `context.config` convention). */
export const CONFIG_FILE = "backlog-bot.yml";

/**
 * Reads `.github/backlog-bot.yml` through Probot's `context.config` and validates it. Never throws
 * for a bad file: the last valid config (or the defaults) stays in force and the error is recorded
 * on the repository row.
 */
export async function loadRepositoryConfig(context: Context, db: Db, repository: Repository, log: Logger): Promise<RepoConfig> {
  const fallback = repository.config ? repoConfigSchema.parse(JSON.parse(repository.config)) : DEFAULT_CONFIG;
  let raw: unknown;
  try {
    raw = (await context.config(CONFIG_FILE)) ?? {};
  } catch (error) {
    const message = `.github/${CONFIG_FILE}: ${(error as Error).message}`;
    await recordConfig(db, repository.id, { error: message });
    log.warn({ err: error }, "repository config unreadable; keeping the last valid one");
    return fallback;
  }
  const parsed = repoConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const message = parsed.error.issues.map((i) => `.github/${CONFIG_FILE}: ${i.path.join(".") || "(root)"}: ${i.message}`).join("\n");
    await recordConfig(db, repository.id, { error: message });
    log.warn({ configError: message }, "repository config invalid; keeping the last valid one");
    return fallback;
  }
  await recordConfig(db, repository.id, { config: parsed.data });
  return parsed.data;
}
