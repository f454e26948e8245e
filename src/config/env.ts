import path from "node:path";
import { z } from "zod";
import { BacklogBotError } from "../util/errors.js";

/**
 * Process settings, read from the environment once at start. Probot reads its own variables
 * (`APP_ID`, `PRIVATE_KEY`, `PRIVATE_KEY_PATH`, `WEBHOOK_SECRET`, `HOST`, `PORT`, `GHE_HOST`,
 * `GHE_PROTOCOL`, `LOG_LEVEL`); these are backlog-bot's (agent settings: executor/agents/settings.ts).
 * The README documents each.
 */
const schema = z.object({
  /** Directory for the SQLite file, mirrors, worktrees and transcripts. */
  BACKLOG_BOT_DATA_DIR: z.string().min(1).default("./data"),
  /** `postgres://…`: keep the store (and the jobs, on graphile-worker) in PostgreSQL instead of SQLite; see docs/deployment.md. */
  DATABASE_URL: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL (unset it to use SQLite)")
      .optional(),
  ),
  /** How many tasks run at once on this machine. */
  BACKLOG_BOT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** Wall-clock limit of one agent run, in seconds. */
  BACKLOG_BOT_AGENT_TIMEOUT_S: z.coerce.number().int().min(1).default(1800),
  /** How long a running task's lease lasts without renewal, in seconds; a crashed worker's task is requeued after it. */
  BACKLOG_BOT_LEASE_S: z.coerce.number().int().min(5).default(120),
  /** Attempts (including ones lost to crashes) before a task is failed for good. */
  BACKLOG_BOT_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(3),
  /** Cap on output captured from an agent, in bytes per stream. */
  BACKLOG_BOT_MAX_OUTPUT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Consecutive infrastructure failures of an agent or a repository that open its circuit breaker. */
  BACKLOG_BOT_BREAKER_FAILURES: z.coerce.number().int().min(1).default(3),
  /** How long (s) an open circuit breaker waits before one trial run. */
  BACKLOG_BOT_BREAKER_COOLDOWN_S: z.coerce.number().int().min(1).default(600),
  /**
   * Days a handled delivery is kept before it is pruned. At least 3: GitHub lets a delivery be
   * redelivered for 3 days (https://docs.github.com/en/webhooks/testing-and-troubleshooting-webhooks/redelivering-webhooks),
   * and a kept id is what makes such a redelivery a no-op.
   */
  BACKLOG_BOT_DELIVERY_RETENTION_DAYS: z.coerce.number().min(3).default(14),
  /** Hosts verify setup commands may reach at most (comma-separated; `*.domain` allowed); a repository's `verify.allowedHosts` is narrowed to them. Default: the package registries of npm, PyPI, Go, crates.io and Maven Central. */
  BACKLOG_BOT_VERIFY_ALLOWED_HOSTS: z.string().optional(),
  /** Agent runs per 24 hours across every repository (0: no limit), shared fairly between repositories with work. */
  BACKLOG_BOT_MAX_RUNS_PER_DAY: z.coerce.number().int().min(0).default(0),
  /** Reported agent cost (US dollars) per 24 hours across every repository (0: no limit). */
  BACKLOG_BOT_MAX_COST_USD_PER_DAY: z.coerce.number().min(0).default(0),
  /** How long (s) a webhook request may take to send its body before it is dropped. */
  BACKLOG_BOT_BODY_TIMEOUT_S: z.coerce.number().min(1).max(300).default(10),
});

/** Settings after validation, with paths made absolute. */
export interface Settings {
  dataDir: string;
  /** PostgreSQL URL of the store; undefined means SQLite in `dataDir`. */
  databaseUrl?: string;
  concurrency: number;
  agentTimeoutMs: number;
  leaseMs: number;
  maxAttempts: number;
  maxOutputBytes: number;
  breaker: { failures: number; cooldownMs: number };
  deliveryRetentionMs: number;
  bodyTimeoutMs: number;
  /** The operator's daily budget across repositories (0: no limit). */
  budget: { maxRunsPerDay: number; maxCostUsdPerDay: number };
  /** The operator's ceiling on verify hosts; undefined means the default registries. */
  verifyAllowedHosts?: string[];
}

/**
 * Reads and validates the settings.
 * @throws BacklogBotError `INVALID_SETTINGS` naming each bad variable and why.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new BacklogBotError("INVALID_SETTINGS", `invalid environment: ${problems}`);
  }
  const s = parsed.data;
  return {
    dataDir: s.BACKLOG_BOT_DATA_DIR === ":memory:" ? s.BACKLOG_BOT_DATA_DIR : path.resolve(s.BACKLOG_BOT_DATA_DIR),
    databaseUrl: s.DATABASE_URL || undefined,
    concurrency: s.BACKLOG_BOT_CONCURRENCY,
    agentTimeoutMs: s.BACKLOG_BOT_AGENT_TIMEOUT_S * 1000,
    leaseMs: s.BACKLOG_BOT_LEASE_S * 1000,
    maxAttempts: s.BACKLOG_BOT_MAX_ATTEMPTS,
    maxOutputBytes: s.BACKLOG_BOT_MAX_OUTPUT_BYTES,
    breaker: { failures: s.BACKLOG_BOT_BREAKER_FAILURES, cooldownMs: s.BACKLOG_BOT_BREAKER_COOLDOWN_S * 1000 },
    deliveryRetentionMs: s.BACKLOG_BOT_DELIVERY_RETENTION_DAYS * 86_400_000,
    bodyTimeoutMs: s.BACKLOG_BOT_BODY_TIMEOUT_S * 1000,
    budget: { maxRunsPerDay: s.BACKLOG_BOT_MAX_RUNS_PER_DAY, maxCostUsdPerDay: s.BACKLOG_BOT_MAX_COST_USD_PER_DAY },
    ...(s.BACKLOG_BOT_VERIFY_ALLOWED_HOSTS !== undefined && {
      verifyAllowedHosts: s.BACKLOG_BOT_VERIFY_ALLOWED_HOSTS.split(",")
        .map((h) => h.trim())
        .filter(Boolean),
    }),
  };
}
