import { z } from "zod";

/**
 * The API's shapes, one zod schema each: handlers validate input with them and
 * scripts/generate-openapi.ts turns them into docs/openapi.json, so the two cannot drift.
 */

const TASK_STATES = ["queued", "running", "pr_open", "merged", "closed", "no_changes", "failed", "cancelled"] as const;
const FINDING_KINDS = ["todo", "stale_issue", "failing_check", "issue"] as const;

/** Page size and cursor shared by every list: `limit` 1..200 (default 50), `cursor` from the previous page's `nextCursor`. */
export const Paging = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe("Items per page, 1 to 200."),
  cursor: z
    .string()
    .regex(/^\d{1,12}$/, "must be a cursor returned by the previous page")
    .optional()
    .describe("Opaque cursor: the `nextCursor` of the previous page."),
});

export const RepoParams = z.object({ owner: z.string().min(1).max(100), name: z.string().min(1).max(100) });
export const IdParams = z.object({ id: z.coerce.number().int().positive() });

export const BacklogQuery = Paging.extend({ kind: z.enum(FINDING_KINDS).optional() });
export const FindingsQuery = Paging.extend({
  state: z.enum(["open", "dismissed", "resolved", "all"]).default("open"),
  kind: z.enum(FINDING_KINDS).optional(),
});
export const TasksQuery = Paging.extend({
  repository: z
    .string()
    .regex(/^[^/\s]+\/[^/\s]+$/, "must be owner/name")
    .optional(),
  state: z.enum(TASK_STATES).optional(),
});
export const AuditQuery = Paging.extend({
  repository: z
    .string()
    .regex(/^[^/\s]+\/[^/\s]+$/, "must be owner/name")
    .optional(),
  actor: z.string().max(100).optional(),
  action: z.string().max(100).optional(),
  outcome: z.string().max(40).optional(),
});
export const OutcomesQuery = z.object({
  repository: z
    .string()
    .regex(/^[^/\s]+\/[^/\s]+$/, "must be owner/name")
    .optional(),
  weeks: z.coerce.number().int().min(1).max(104).default(12),
});

export const StartTaskBody = z.object({
  agent: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, "must be an agent name such as claude-code")
    .optional(),
  instructions: z.string().max(4000).optional(),
});
export const DismissBody = z.object({ reason: z.string().max(500).optional() });
export const EmptyBody = z.object({});

export const ErrorResponse = z.object({
  error: z.object({
    code: z.string().describe("`invalid_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`, `unavailable`..."),
    message: z.string(),
    issues: z.array(z.object({ path: z.string().describe("e.g. `query.limit`"), message: z.string() })).optional(),
  }),
});

const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const RepositoryOut = z.object({
  id: z.number().int(),
  fullName: z.string(),
  defaultBranch: z.string(),
  installationId: z.number().int().nullable(),
  configError: z.string().nullable(),
  openFindings: z.number().int(),
  openTasks: z.number().int(),
  canWrite: z.boolean(),
});
export const RepositoriesOut = z.object({ items: z.array(RepositoryOut) });

export const BacklogRowOut = z.object({
  rank: z.number().int(),
  score: z.number(),
  findingId: z.number().int(),
  kind: z.string(),
  title: z.string(),
  path: z.string().nullable(),
  line: z.number().int().nullable(),
  url: z.string().nullable(),
  issueNumber: z.number().int().nullable(),
  firstSeenAt: z.string(),
  breakdown: z.array(z.object({ signal: z.string(), points: z.number(), reason: z.string() })),
  group: z.object({
    count: z.number().int(),
    locations: z.array(
      z.object({
        findingId: z.number().int(),
        path: z.string().nullable(),
        line: z.number().int().nullable(),
        issueNumber: z.number().int().nullable(),
      }),
    ),
  }),
  task: z.object({ id: z.number().int(), state: z.enum(TASK_STATES) }).nullable(),
});
export const BacklogOut = page(BacklogRowOut).extend({ total: z.number().int() });

export const FindingOut = z.object({
  id: z.number().int(),
  repository: z.string(),
  kind: z.enum(FINDING_KINDS),
  fingerprint: z.string(),
  title: z.string(),
  body: z.string().nullable(),
  path: z.string().nullable(),
  line: z.number().int().nullable(),
  url: z.string().nullable(),
  issueNumber: z.number().int().nullable(),
  signals: z.record(z.string(), z.unknown()),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  resolvedAt: z.string().nullable(),
  dismissedAt: z.string().nullable(),
});
export const FindingsOut = page(FindingOut);

export const RunOut = z.object({
  id: z.number().int(),
  taskId: z.number().int(),
  agent: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  outcome: z.string().nullable(),
  summary: z.string().nullable(),
  turns: z.number().int().nullable(),
  inputTokens: z.number().int().nullable(),
  outputTokens: z.number().int().nullable(),
  costUsd: z.number().nullable(),
  verification: z.string().nullable(),
  diffStat: z.string().nullable(),
  error: z.string().nullable(),
});
export const TaskOut = z.object({
  id: z.number().int(),
  repository: z.string(),
  findingId: z.number().int().nullable(),
  issueNumber: z.number().int().nullable(),
  title: z.string(),
  state: z.enum(TASK_STATES),
  agent: z.string().nullable(),
  branch: z.string().nullable(),
  prNumber: z.number().int().nullable(),
  prUrl: z.string().nullable(),
  requestedBy: z.string(),
  trigger: z.string(),
  attempts: z.number().int(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const TasksOut = page(TaskOut);
export const TaskDetailOut = TaskOut.extend({ runs: z.array(RunOut) });

export const TranscriptEventOut = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("message"), role: z.enum(["assistant", "user", "system"]), text: z.string() }),
  z.object({ kind: z.literal("tool_call"), id: z.string().nullable(), name: z.string(), input: z.string() }),
  z.object({ kind: z.literal("tool_result"), id: z.string().nullable(), output: z.string(), isError: z.boolean() }),
  z.object({
    kind: z.literal("result"),
    text: z.string(),
    turns: z.number().nullable(),
    costUsd: z.number().nullable(),
    isError: z.boolean(),
  }),
  z.object({ kind: z.literal("text"), text: z.string() }),
]);
export const RunDetailOut = RunOut.extend({ repository: z.string(), transcript: z.array(TranscriptEventOut) });

export const AuditEntryOut = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  repository: z.string().nullable(),
  target: z.string().nullable(),
  outcome: z.string(),
  detail: z.unknown(),
});
export const AuditOut = page(AuditEntryOut);

export const OutcomesOut = z.object({
  weeks: z.array(
    z.object({ week: z.string(), opened: z.number().int(), merged: z.number().int(), closed: z.number().int(), failed: z.number().int() }),
  ),
  leadTimeSeconds: z.object({ median: z.number().nullable(), p90: z.number().nullable() }),
  failureRate: z.number().nullable(),
  mergeRate: z.number().nullable(),
  costPerMergedPr: z.number().nullable(),
  totalCostUsd: z.number(),
});

export const TaskRefOut = z.object({ taskId: z.number().int() });
export const FindingRefOut = z.object({ findingId: z.number().int() });
