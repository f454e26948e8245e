import { createHash } from "node:crypto";
import pino from "pino";
import { ProbotOctokit } from "probot";
import type { GitHubAccess } from "../github/access.js";
import { type ScanReport, scanRepository } from "../scheduler/run-scan.js";
import type { Db } from "../store/db.js";
import { upsertRepository } from "../store/repositories.js";
import { BacklogBotError } from "../util/errors.js";
import { createLogger, type Logger, registerSecret } from "../util/logger.js";

/**
 * The REST API root, as Probot derives it: `GHE_PROTOCOL://GHE_HOST/api/v3` for GitHub Enterprise
 * Server (and a local stub), else api.github.com.
 */
export function apiBaseUrl(env: NodeJS.ProcessEnv): string {
  return env.GHE_HOST ? `${env.GHE_PROTOCOL ?? "https"}://${env.GHE_HOST}/api/v3` : "https://api.github.com";
}

/**
 * `GitHubAccess` for a personal or Actions token (`GITHUB_TOKEN`): one ProbotOctokit, throttling and
 * retry on like the app's, for every "installation".
 * @throws BacklogBotError `INVALID_SETTINGS` when `GITHUB_TOKEN` is not set.
 */
export function createTokenAccess(env: NodeJS.ProcessEnv, log: Logger): GitHubAccess {
  const token = env.GITHUB_TOKEN;
  if (!token)
    throw new BacklogBotError(
      "INVALID_SETTINGS",
      "scan --remote needs a GitHub token: set GITHUB_TOKEN (repo scope, or a fine-grained token with issues, checks and contents read).",
    );
  registerSecret(token);
  const octokit = new ProbotOctokit({ auth: { token }, baseUrl: apiBaseUrl(env), log: log.child({ name: "octokit" }) });
  return {
    octokit: async () => octokit as never,
    token: async () => token,
    botIdentity: async () => ({ name: "backlog-bot", email: "backlog-bot@users.noreply.github.com" }),
  };
}

/**
 * `backlog-bot scan --remote owner/repo`: the scheduled scans, once, against the API (the TODO scan
 * in a mirror under `dataDir`), storing findings in `db`. The caller prints the ranked backlog.
 * @returns the repository's id in the store, and a line per scanner that failed (`name: error`).
 * @throws BacklogBotError `INVALID_SETTINGS` without `GITHUB_TOKEN` or with a malformed name; Octokit's
 * RequestError when the repository cannot be read (404: wrong name or no access).
 */
export async function scanRemote(options: {
  fullName: string;
  env: NodeJS.ProcessEnv;
  db: Db;
  dataDir: string;
}): Promise<{ repositoryId: number; failures: string[] }> {
  // GitHub's names: letters, digits, `-`, `_`, `.`; never `.` or `..`, which would leave /repos/ in the request path.
  if (!/^[\w.-]+\/[\w.-]+$/.test(options.fullName) || options.fullName.split("/").some((part) => /^\.+$/.test(part))) {
    throw new BacklogBotError("INVALID_SETTINGS", `expected owner/repo, got "${options.fullName}"`);
  }
  const log = createLogger({ level: options.env.LOG_LEVEL ?? "warn", destination: pino.destination(2) });
  const access = createTokenAccess(options.env, log);
  const api = await access.octokit(null);
  const [owner = "", repo = ""] = options.fullName.split("/");
  const { data } = await api.request("GET /repos/{owner}/{repo}", { owner, repo });
  const repository = await upsertRepository(options.db, {
    fullName: data.full_name,
    githubId: typeof data.id === "number" ? data.id : undefined,
    defaultBranch: data.default_branch,
    cloneUrl: data.clone_url,
  });
  const token = await access.token(null);
  const report: ScanReport = await scanRepository({
    db: options.db,
    api,
    repository,
    dataDir: options.dataDir,
    cacheScope: `token:${createHash("sha256").update(token).digest("hex").slice(0, 16)}`,
    token: async () => token,
    log: log.child({ repo: repository.full_name }),
  });
  if (report.configError) log.warn({ configError: report.configError }, "repository config invalid; scanned with the last valid one");
  const failures: string[] = [];
  for (const [name, result] of Object.entries(report.scanners)) {
    if ("error" in result) failures.push(`${name}: ${result.error}`);
  }
  return { repositoryId: repository.id, failures };
}
