import type { Db } from "../store/db.js";
import type { Logger } from "../util/logger.js";
import type { RepoAccess } from "./auth/access.js";
import type { OAuthOptions } from "./auth/oauth.js";
import type { ReadyCheck } from "./health.js";

/** Who asked, for the request service and the audit log. */
export interface Requester {
  /** GitHub login, or `api-token` for the operator's token. */
  actor: string;
  /** `web` for a signed-in person's button, `api` for a token or JSON call. */
  via: "web" | "api";
}

/**
 * The task request service (src/executor/requests.ts): the same rules and limits as the GitHub
 * commands. Each call resolves with the task it concerns or rejects with a BacklogBotError whose
 * message a person can read (it is shown as a 409).
 */
export interface TaskRequests {
  requestTask(input: { findingId: number; agent?: string; instructions?: string; by: Requester }): Promise<{ taskId: number }>;
  cancelTask(input: { taskId: number; by: Requester }): Promise<{ taskId: number }>;
  retryTask(input: { taskId: number; by: Requester }): Promise<{ taskId: number }>;
  dismissFinding(input: { findingId: number; reason?: string; by: Requester }): Promise<{ findingId: number }>;
}

/** Everything the web layer needs; the lead's wiring builds this once per process. */
export interface WebDeps {
  db: Db;
  log: Logger;
  /** Who may read and act where (normally `createGitHubRepoAccess`). */
  access: RepoAccess;
  /** Absent: the write routes answer 503. */
  requests?: TaskRequests;
  /** Sign-in with GitHub; absent: only the API token works. */
  oauth?: OAuthOptions;
  /** Key for the session cookie; keep it stable across restarts or every person signs in again. */
  sessionSecret: string;
  /** `BACKLOG_BOT_API_TOKEN`: bearer token of the operator (all repositories, all actions). */
  apiToken?: string;
  /** `/metrics` without credentials (`true`), or only with the API token (`false`, default). `"off"` when served on its own port instead. */
  metrics?: boolean | "off";
  /** Extra `/ready` checks by name, e.g. `job_queue`, `github`, `sandbox` (store and migrations are built in). */
  readyChecks?: Record<string, ReadyCheck>;
  /** Where run transcripts live is in each run row; nothing to configure. Time source for tests. */
  now?: () => Date;
  /** How often (ms) an open event stream asks again what its viewer may read; default `ACCESS_RECHECK_MS` (60 s). */
  eventsRecheckMs?: number;
}
