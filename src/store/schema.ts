import type { Generated, Insertable, Selectable, Updateable } from "kysely";

/**
 * Row shapes of the store, one interface per table (see DESIGN.md, "Data model").
 * Times are ISO 8601 UTC strings (`new Date().toISOString()`), which sort correctly as text in
 * SQLite and cast cleanly to `timestamptz` in PostgreSQL. JSON columns are text holding JSON.
 */
export interface Database {
  attribution_versions: AttributionVersionsTable;
  attribution_scans: AttributionScansTable;
  repositories: RepositoriesTable;
  findings: FindingsTable;
  tasks: TasksTable;
  runs: RunsTable;
  deliveries: DeliveriesTable;
  audit: AuditTable;
  jobs: JobsTable;
  circuit_breakers: CircuitBreakersTable;
  verify_cache: VerifyCacheTable;
  follow_ups: FollowUpsTable;
  git_attributes: GitAttributesTable;
}

export interface RepositoriesTable {
  id: Generated<number>;
  /** `owner/name` for GitHub repositories; the absolute path for a local checkout scanned by the CLI. */
  full_name: string;
  installation_id: number | null;
  default_branch: string;
  /** Where the executor fetches from: an https clone URL, or a local path/`file://` URL in tests and CLI use. */
  clone_url: string | null;
  /** Last valid repository config, as JSON. */
  config: string | null;
  /** Last config error, for maintainers; null when the config in force is valid. */
  config_error: string | null;
  created_at: string;
  updated_at: string;
  /** The dashboard issue (migration 0005); null until created or found by its marker. */
  dashboard_issue_number: Generated<number | null>;
  /** sha256 of the dashboard body last written, and when (ISO): unchanged bodies are not sent, edits are debounced. */
  dashboard_hash: Generated<string | null>;
  dashboard_synced_at: Generated<string | null>;
  /** GitHub's repository id (migration 0010): survives renames and transfers; null for a CLI-scanned local checkout. Unique when set. */
  github_id: Generated<number | null>;
  /** When the app's installation on it was suspended, ISO (migration 0011); null while it is not. Nothing asks GitHub while set. */
  suspended_at: Generated<string | null>;
}

/** The kinds of work the scanners discover. */
export type FindingKind = "todo" | "stale_issue" | "failing_check" | "issue";

export interface FindingsTable {
  id: Generated<number>;
  repository_id: number;
  /** Stable identity of a finding within its repository; survives a TODO moving lines. */
  fingerprint: string;
  kind: FindingKind;
  title: string;
  body: string | null;
  path: string | null;
  line: number | null;
  url: string | null;
  issue_number: number | null;
  /** Scanner-specific facts used for ranking, as JSON (see `FindingSignals`). */
  signals: string;
  first_seen_at: string;
  last_seen_at: string;
  resolved_at: string | null;
  dismissed_at: string | null;
  /** Migration 0005: how the finding's last task ended, and the finding's content hash when it was asked for. */
  last_task_outcome: Generated<string | null>;
  last_task_hash: Generated<string | null>;
  /** Who dismissed it (a login); a dismissed finding never returns to the backlog. */
  dismissed_by: Generated<string | null>;
}

/** Task states; see DESIGN.md "Task lifecycle". */
export type TaskState = "queued" | "running" | "pr_open" | "merged" | "closed" | "no_changes" | "failed" | "cancelled";

/** How a task was asked for. */
export type TaskTrigger = "comment" | "dashboard" | "autopilot" | "cli";

export interface TasksTable {
  id: Generated<number>;
  repository_id: number;
  finding_id: number | null;
  issue_number: number | null;
  title: string;
  /** Free text the maintainer added after `/agent fix`; untrusted. */
  instructions: string | null;
  state: TaskState;
  agent: string | null;
  branch: string | null;
  pr_number: number | null;
  pr_url: string | null;
  requested_by: string;
  trigger: TaskTrigger;
  attempts: Generated<number>;
  lease_owner: string | null;
  lease_expires_at: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
  /** When the maintainer asked (comment, tick, API call): the prompt uses the issue as it was then. */
  requested_at: string | null;
  /** The `/agent fix` comment, when that is how it was asked. */
  trigger_comment_id: number | null;
  /** The commit the bot last pushed to `branch`: the next push is `--force-with-lease` against it. */
  pushed_sha: string | null;
  /** Who asked to cancel a queued or running task; the worker running it stops at its next check. */
  cancel_requested_by: string | null;
  ended_at: string | null;
  /** The workflow named with `/agent fix --workflow NAME`; null: the repository's default. */
  workflow: string | null;
  /** The reply owed on the issue for the last state change (JSON `{ body, marker }`), until posted. */
  reply_pending: string | null;
}

export type RunOutcome = "changes" | "no_changes" | "failed" | "timeout";

export interface RunsTable {
  id: Generated<number>;
  task_id: number;
  agent: string;
  started_at: string;
  ended_at: string | null;
  exit_code: number | null;
  outcome: RunOutcome | null;
  summary: string | null;
  turns: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  /** `passed`, `failed` or `skipped`, from the repository's own tests. */
  verification: string | null;
  diff_stat: string | null;
  transcript_path: string | null;
  error: string | null;
  /** Connections the sandbox refused during the run. */
  sandbox_denials: number | null;
  /** Which round of verify-and-continue this run was (1 for the first agent run); null before issue 10. */
  round: number | null;
  /** The full verification of this round as JSON (`Verification` in src/executor/verify.ts). */
  verification_detail: string | null;
  /** The anti-masking guard's flags as a JSON array (`MaskingFlag[]`); `[]` when it found none. */
  masking_flags: string | null;
  /** The agent's session id, for resuming it in the next round (`claude --resume`, `codex exec resume`). */
  agent_session_id: string | null;
}

export type DeliveryStatus = "received" | "processed" | "failed";

/** A job of the SQLite backend of the jobs port (src/jobs/sqlite.ts). */
export interface JobsTable {
  id: Generated<number>;
  kind: string;
  /** JSON. */
  payload: string;
  queue: string | null;
  key: string | null;
  state: "waiting" | "running" | "dead";
  run_at: string;
  attempts: Generated<number>;
  max_attempts: number;
  locked_by: string | null;
  locked_until: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

/** A circuit breaker of an agent (`agent:<name>`) or a repository (`repo:<id>`). */
export interface CircuitBreakersTable {
  key: string;
  state: "closed" | "open" | "half_open";
  failures: Generated<number>;
  opened_at: string | null;
  last_error: string | null;
  updated_at: string;
}

export interface DeliveriesTable {
  /** The `X-GitHub-Delivery` header. */
  id: string;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository: string | null;
  status: DeliveryStatus;
  error: string | null;
  received_at: string;
  processed_at: string | null;
  /** The payload as received (JSON), kept until the delivery is handled. */
  payload: string | null;
  attempts: Generated<number>;
}

export type Repository = Selectable<RepositoriesTable>;
export type FindingRow = Selectable<FindingsTable>;
export type NewFindingRow = Insertable<FindingsTable>;
export type Task = Selectable<TasksTable>;
export type TaskUpdate = Updateable<TasksTable>;
export type Run = Selectable<RunsTable>;
export type Delivery = Selectable<DeliveriesTable>;

/** One audited act (src/store/audit.ts): a GitHub write of the bot, or a command accepted or refused. */
export interface AuditTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  repository: string | null;
  target: string | null;
  outcome: string;
  /** JSON. */
  detail: string | null;
}
export type AuditRow = Selectable<AuditTable>;

/** Base-commit test results, per repository, base SHA and command (src/executor/verify-cache.ts). */
export interface VerifyCacheTable {
  repository_id: number;
  base_sha: string;
  /** Hash of the setup and test commands (with the report arguments), so a changed command misses. */
  command_key: string;
  /** JSON `SuiteRun`. */
  result: string;
  created_at: string;
}

/** Issue 14: one committed file version's TODO findings (`findings`, JSON `Finding[]`) and line authors (`authors`, JSON), per scan settings. */
export interface AttributionVersionsTable {
  repository_id: number;
  settings: string;
  path: string;
  blob: string;
  findings: string;
  authors: string;
  created_at: string;
}

/** Issue 14: the last complete TODO scan per settings: its commit and its versions with TODOs (`files`, JSON). */
export interface AttributionScansTable {
  repository_id: number;
  settings: string;
  commit_id: string;
  files: string;
  dirty: string;
  scanned_at: string;
}

/** One follow-up of a bot PR (src/store/follow-ups.ts). `trigger` is `review`, `comment`, `ci` or `summary` (the comment at the bound). */
export interface FollowUpsTable {
  id: Generated<number>;
  task_id: number;
  trigger: string;
  head_sha: string;
  check_name: string | null;
  /** `outcomeSignature` of src/executor/follow-up.ts once it ended; null while it runs. */
  outcome: string | null;
  created_at: string;
  ended_at: string | null;
}

/** Issue 9: the root `.gitattributes` of a repository's default branch, as its last scan read it (src/store/git-attributes.ts). */
export interface GitAttributesTable {
  repository_id: number;
  commit_id: string;
  /** The file's text; empty when the commit has none. */
  content: string;
  read_at: string;
}
