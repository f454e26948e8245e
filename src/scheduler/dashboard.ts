import { createHash } from "node:crypto";
import { RequestError } from "@octokit/request-error";
import type { Octokit } from "@octokit/rest";
import { configErrorComment, lastValidConfig } from "../config/load.js";
import type { RepoConfig } from "../config/schema.js";
import { DASHBOARD_MARKER, renderDashboard } from "../dashboard/index.js";
import type { GitHubAccess } from "../github/access.js";
import { commentOnce } from "../github/comments.js";
import type { Jobs } from "../jobs/index.js";
import { dashboardRecord, recordDashboard } from "../store/dashboard.js";
import type { Db } from "../store/db.js";
import { getRepositoryById } from "../store/repositories.js";
import type { Repository } from "../store/schema.js";
import type { Logger } from "../util/logger.js";
import { loadDashboardState } from "./dashboard-state.js";

/** The job kind that syncs one repository's dashboard. */
export const DASHBOARD_JOB = "dashboard.sync";
/** Pages of the repository's issues searched for the marker when the bot's login is unknown (100 each). */
const MAX_SEARCH_PAGES = 10;

/** What `syncDashboard` needs. */
export interface DashboardSyncOptions {
  db: Db;
  octokit: Octokit;
  repository: Repository;
  config: RepoConfig;
  log: Logger;
  now?: Date;
  /** The app's bot login (`<slug>[bot]`): the marker search then reads only the bot's own issues. */
  botLogin?: string;
}

/** What one sync did. */
export type SyncOutcome =
  | { kind: "off" }
  | { kind: "closed"; issueNumber: number }
  | { kind: "debounced"; retryAt: Date }
  | { kind: "unchanged"; issueNumber: number }
  | { kind: "created" | "updated" | "reopened"; issueNumber: number };

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * The dashboard issue of a repository, found by its hidden marker among the bot's issues (open or
 * closed; pull requests skipped; `botLogin`'s when known, else any app's), oldest first so a
 * duplicate made by an older version loses.
 */
export async function findDashboardIssue(
  octokit: Octokit,
  repo: { owner: string; repo: string },
  botLogin?: string,
): Promise<{ number: number; state: string } | undefined> {
  for (let page = 1; page <= MAX_SEARCH_PAGES; page++) {
    const { data } = await octokit.rest.issues.listForRepo({
      ...repo,
      state: "all",
      sort: "created",
      direction: "asc",
      per_page: 100,
      page,
      ...(botLogin && { creator: botLogin }),
    });
    // The bot's own issue only: anyone may quote the marker, and the sync would overwrite their issue's body.
    const found = data.find((i) => !i.pull_request && i.user?.type === "Bot" && (i.body ?? "").includes(DASHBOARD_MARKER));
    if (found) return { number: found.number, state: found.state };
    if (data.length < 100) return undefined;
  }
  return undefined;
}

/**
 * Brings a repository's dashboard issue up to date with the store: renders it (no API call), skips
 * when the body is what was last written, waits when the last write is under
 * `dashboardMinIntervalS` old (returns when to come back), and otherwise edits the issue — or finds
 * it by its marker, or creates it. The issue number is recorded right after creating; a crash in
 * between is healed by the marker search on the next sync, so there is never a second issue.
 * A dashboard a maintainer closed stays closed until they turn `dashboard` off and on again.
 * @throws the Octokit RequestError of a failed call (the job retries).
 */
export async function syncDashboard(options: DashboardSyncOptions): Promise<SyncOutcome> {
  const { db, octokit, config, log } = options;
  const now = options.now ?? new Date();
  const repository = (await getRepositoryById(db, options.repository.id)) ?? options.repository;
  const record = dashboardRecord(repository);
  if (!config.dashboard) {
    if (record.hash !== "off") await recordDashboard(db, repository.id, { hash: "off" });
    return { kind: "off" };
  }
  if (record.hash === "closed" && record.issueNumber !== null) return { kind: "closed", issueNumber: record.issueNumber };
  const body = renderDashboard(await loadDashboardState(db, repository, config, now));
  const hash = sha256(body);
  if (record.issueNumber !== null && record.hash === hash) return { kind: "unchanged", issueNumber: record.issueNumber };
  const since = record.syncedAt ? now.getTime() - Date.parse(record.syncedAt) : Number.POSITIVE_INFINITY;
  if (since < config.dashboardMinIntervalS * 1000) {
    return { kind: "debounced", retryAt: new Date(Date.parse(record.syncedAt ?? "") + config.dashboardMinIntervalS * 1000) };
  }
  const [owner = "", name = ""] = repository.full_name.split("/");
  const repo = { owner, repo: name };
  const written = { hash, syncedAt: now.toISOString() };
  let issueNumber = record.issueNumber;
  let reopen = record.hash === "off";
  if (issueNumber === null) {
    const found = await findDashboardIssue(octokit, repo, options.botLogin);
    if (found) {
      issueNumber = found.number;
      // Found closed and never recorded: a maintainer closed it; leave it closed unless re-enabled.
      if (found.state === "closed" && !reopen) {
        await recordDashboard(db, repository.id, { issueNumber, hash: "closed" });
        return { kind: "closed", issueNumber };
      }
      await recordDashboard(db, repository.id, { issueNumber });
    }
  }
  if (issueNumber !== null) {
    try {
      await octokit.rest.issues.update({ ...repo, issue_number: issueNumber, body, ...(reopen && { state: "open" as const }) });
      await recordDashboard(db, repository.id, { issueNumber, ...written });
      log.info({ issue: issueNumber, reopen }, "dashboard updated");
      await sayConfigError(octokit, repo, issueNumber, repository.config_error);
      return { kind: reopen ? "reopened" : "updated", issueNumber };
    } catch (error) {
      // Deleted or transferred: make a new one.
      if (!(error instanceof RequestError) || (error.status !== 404 && error.status !== 410)) throw error;
      log.warn({ issue: issueNumber }, "dashboard issue is gone; creating a new one");
      reopen = false;
    }
  }
  const { data } = await octokit.rest.issues.create({ ...repo, title: config.dashboardTitle, body, labels: config.dashboardLabels });
  await recordDashboard(db, repository.id, { issueNumber: data.number, ...written });
  log.info({ issue: data.number }, "dashboard created");
  await sayConfigError(octokit, repo, data.number, repository.config_error);
  return { kind: "created", issueNumber: data.number };
}

/**
 * A config error is shown in the body and also said once in a comment on the dashboard, so
 * maintainers are notified (a body edit notifies nobody). Only called after a write: an unchanged
 * dashboard costs no request.
 */
async function sayConfigError(
  octokit: Octokit,
  repo: { owner: string; repo: string },
  issueNumber: number,
  error: string | null,
): Promise<void> {
  if (!error) return;
  await commentOnce(octokit, {
    ...repo,
    issueNumber,
    body: configErrorComment(error),
    marker: `config-error:${sha256(error).slice(0, 16)}`,
  });
}

/** Payload of a `dashboard.sync` job. */
export interface DashboardJobPayload {
  repositoryId: number;
}

/**
 * Asks for a dashboard sync of a repository: one pending job per repository (dedupe key), due when
 * the debounce allows. Call after anything that changes what the dashboard shows.
 */
export async function requestDashboardSync(jobs: Pick<Jobs, "add">, repository: Repository, config?: RepoConfig): Promise<void> {
  const interval = (config ?? lastValidConfig(repository)).dashboardMinIntervalS * 1000;
  const last = repository.dashboard_synced_at ? Date.parse(repository.dashboard_synced_at) : 0;
  const runAt = new Date(Math.max(Date.now(), last + interval));
  await jobs.add<DashboardJobPayload>({
    kind: DASHBOARD_JOB,
    payload: { repositoryId: repository.id },
    key: `dashboard:${repository.id}`,
    queue: `dashboard:${repository.id}`,
    runAt,
  });
}

/**
 * Registers the `dashboard.sync` handler. A sync still inside the debounce (a write landed after
 * the job was queued) queues one follow-up job for when it ends, under its own key: the running
 * job still holds the main key, which would swallow the follow-up. A repository whose installation
 * is suspended is skipped without a GitHub call.
 */
export function handleDashboardJobs(jobs: Pick<Jobs, "handle" | "add">, deps: { db: Db; access: GitHubAccess; log: Logger }): void {
  jobs.handle<DashboardJobPayload>(DASHBOARD_JOB, async ({ repositoryId }, context) => {
    const repository = await getRepositoryById(deps.db, repositoryId);
    // A suspended installation gets no token; unsuspending scans it, and the scan's end asks for a sync.
    if (!repository || repository.installation_id === null || repository.suspended_at !== null) return;
    const identity = await deps.access.botIdentity(repository.installation_id).catch(() => undefined);
    const outcome = await syncDashboard({
      db: deps.db,
      octokit: await deps.access.octokit(repository.installation_id),
      repository,
      config: lastValidConfig(repository),
      log: context.log.child({ repo: repository.full_name }),
      ...(identity && { botLogin: identity.name }),
    });
    if (outcome.kind !== "debounced") return;
    await jobs.add<DashboardJobPayload>({
      kind: DASHBOARD_JOB,
      payload: { repositoryId },
      key: `dashboard:${repositoryId}:later`,
      // The repository's dashboard queue: never beside a sync queued meanwhile, which could both find the issue gone and both create one.
      queue: `dashboard:${repositoryId}`,
      runAt: outcome.retryAt,
    });
  });
}
