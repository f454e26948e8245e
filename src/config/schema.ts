import { z } from "zod";

/**
 * `.github/backlog-bot.yml`. Every field has a default, so an empty file (or none) is valid.
 */
export const repoConfigSchema = z
  .object({
    /** Agent to run when `/agent fix` names none; must be one the operator enabled. Default: the operator's first. */
    agent: z.string().optional(),
    /** Most draft PRs the app keeps open in this repository at once (Renovate's name). */
    prConcurrentLimit: z.number().int().min(0).max(100).default(3),
    /** Bot accounts (logins) allowed to trigger agent work. Default: none. */
    allowedBots: z.array(z.string()).max(50).default([]),
  })
  .strict();

export type RepoConfig = z.infer<typeof repoConfigSchema>;

/** The config in force when a repository has no file. */
export const DEFAULT_CONFIG: RepoConfig = repoConfigSchema.parse({});
