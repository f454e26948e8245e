import type { Context } from "probot";
import { type Api, conditionalGet, type RequestBudget } from "../github/http.js";
import type { Db } from "../store/db.js";
import { recordConfig } from "../store/repositories.js";
import type { Repository } from "../store/schema.js";
import type { Logger } from "../util/logger.js";
import { CONFIG_PATH, type ParsedConfig, parseConfigText } from "./parse.js";
import { DEFAULT_CONFIG, type RepoConfig, repoConfigSchema } from "./schema.js";

/** Path of the repository config, relative to `.github/` (Probot's `context.config` convention). */
export const CONFIG_FILE = "backlog-bot.yml";

/** What reading a repository's config came to. */
export interface ConfigOutcome {
  /** The config in force: the file's when valid, else the last valid one, else the defaults. */
  config: RepoConfig;
  /** Why the file was not used (with the offending key's path), or null when it was valid or absent. */
  error: string | null;
  /** Whether `error` differs from the one recorded before: tell maintainers only then. */
  errorChanged: boolean;
}

/** The last valid config recorded for the repository, else the defaults. */
export function lastValidConfig(repository: Pick<Repository, "config">): RepoConfig {
  if (!repository.config) return DEFAULT_CONFIG;
  try {
    // A config stored by an older backlog-bot may no longer validate: the defaults then apply.
    const parsed = repoConfigSchema.safeParse(JSON.parse(repository.config));
    return parsed.success ? parsed.data : DEFAULT_CONFIG;
  } catch {
    return DEFAULT_CONFIG;
  }
}

/**
 * Reads `.github/backlog-bot.yml` at `ref` (default: the default branch) with a conditional request,
 * parses it with our own YAML limits (`parseConfigText`) rather than Probot's `context.config`, so an
 * alias bomb, an oversized file or an `_extends` pointing elsewhere cannot reach us, and the scheduler
 * (which has no webhook context) reads it the same way. Records the outcome on the repository row.
 * Never throws: a network failure keeps the last valid config and records nothing.
 */
export async function loadConfig(
  api: Api,
  db: Db,
  repository: Repository,
  log: Logger,
  options: { cacheScope: string; ref?: string; budget?: RequestBudget },
): Promise<ConfigOutcome> {
  const fallback = lastValidConfig(repository);
  const [owner = "", repo = ""] = repository.full_name.split("/");
  let parsed: ParsedConfig;
  try {
    const route = "GET /repos/{owner}/{repo}/contents/{path}";
    const params = { owner, repo, path: CONFIG_PATH, mediaType: { format: "raw" } };
    let data: unknown;
    if (options.ref) {
      // One commit's file is read once: nothing to revalidate later, so nothing to cache.
      options.budget?.spend("config at ref");
      data = (await api.request(route, { ...params, ref: options.ref })).data;
    } else {
      const response = await conditionalGet<unknown>(api, db, {
        route,
        params,
        cacheScope: options.cacheScope,
        keepBody: true,
        ...(options.budget && { budget: options.budget }),
      });
      data = response.data;
    }
    parsed =
      typeof data === "string"
        ? parseConfigText(data)
        : { ok: false, error: `${CONFIG_PATH}: expected a file, found ${Array.isArray(data) ? "a directory" : "something else"}` };
  } catch (error) {
    if ((error as { status?: number }).status === 404) {
      parsed = { ok: true, config: DEFAULT_CONFIG };
    } else {
      log.warn({ err: error }, "repository config could not be fetched; keeping the last valid one");
      return { config: fallback, error: null, errorChanged: false };
    }
  }
  if (parsed.ok) {
    const { errorChanged } = await recordConfig(db, repository.id, { config: parsed.config });
    return { config: parsed.config, error: null, errorChanged };
  }
  const { errorChanged } = await recordConfig(db, repository.id, { error: parsed.error });
  log.warn({ configError: parsed.error }, "repository config invalid; keeping the last valid one");
  return { config: fallback, error: parsed.error, errorChanged };
}

/**
 * The config for a webhook handler: `loadConfig` through the delivery's installation client. When the
 * file has a new error and the delivery concerns an issue or pull request, the error is also posted
 * there as a comment, once per distinct error (pushes get a check run instead: see `handlers/push.ts`).
 * Never throws for a bad or unreadable file.
 */
export async function loadRepositoryConfig(context: Context, db: Db, repository: Repository, log: Logger): Promise<RepoConfig> {
  const installation = (context.payload as { installation?: { id: number } }).installation?.id ?? "none";
  const outcome = await loadConfig(context.octokit, db, repository, log, { cacheScope: `installation:${installation}` });
  const payload = context.payload as { issue?: { number: number }; pull_request?: { number: number } };
  const number = payload.issue?.number ?? payload.pull_request?.number;
  if (outcome.error && outcome.errorChanged && number !== undefined) {
    try {
      await context.octokit.rest.issues.createComment(context.repo({ issue_number: number, body: configErrorComment(outcome.error) }));
    } catch (error) {
      log.warn({ err: error }, "could not comment about the config error");
    }
  }
  return outcome.config;
}

/** Markdown telling maintainers what is wrong with the file and what stays in force. */
export function configErrorComment(error: string): string {
  return [
    `backlog-bot could not use \`${CONFIG_PATH}\`; the last valid configuration (or the defaults) stays in force until it is fixed:`,
    "",
    "```",
    error,
    "```",
    "",
    "Every option is described in backlog-bot's docs/configuration.md.",
  ].join("\n");
}
