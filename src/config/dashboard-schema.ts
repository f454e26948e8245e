import { validate as isCron } from "node-cron";
import { z } from "zod";

/**
 * Repository options for the dashboard issue and autopilot (issue 9), named after Renovate's
 * Dependency Dashboard (https://docs.renovatebot.com/configuration-options/#dependencydashboard):
 * `dashboard`, `dashboardTitle`, `dashboardLabels`. Kept apart from schema.ts, which mounts them.
 */
export const dashboardConfigShape = {
  /** Renovate's `dependencyDashboard`: keep one issue with the ranked backlog and the agents' work. */
  dashboard: z
    .boolean()
    .default(true)
    .describe("Keep one issue with the ranked backlog and the agents' work, with checkboxes to start work."),
  /** Renovate's `dependencyDashboardTitle`. */
  dashboardTitle: z.string().min(1).max(200).default("Backlog dashboard").describe("Title of the dashboard issue."),
  /** Renovate's `dependencyDashboardLabels`. */
  dashboardLabels: z.array(z.string().min(1).max(50)).max(10).default([]).describe("Labels set on the dashboard issue."),
  /** Rows of the ranked backlog shown on the dashboard. */
  dashboardLimit: z.number().int().min(1).max(200).default(20).describe("Rows of the ranked backlog shown on the dashboard."),
  /** At most one dashboard edit per this many seconds, so a busy repository costs a handful of API calls an hour. */
  dashboardMinIntervalS: z
    .number()
    .int()
    .min(10)
    .max(86_400)
    .default(60)
    .describe("At most one dashboard edit per this many seconds (changes in between are batched)."),
};

/** Finding kinds autopilot may pick. */
export const AUTOPILOT_KINDS = ["todo", "failing_check", "stale_issue", "issue"] as const;

/** `autopilot`: start agents on the top-ranked findings by itself, within every limit. Off by default. */
export const autopilotConfigSchema = z
  .object({
    enabled: z.boolean().default(false).describe("Start agents on the top-ranked eligible findings at each scheduled time."),
    schedule: z
      .string()
      .max(100)
      .refine((s) => s.trim().split(/\s+/).length === 5 && isCron(s), "must be a five-field cron expression, e.g. `0 3 * * 1-5`")
      .default("0 3 * * *")
      .describe("When autopilot picks work, as a five-field cron expression in `timezone`."),
    maxTasksPerDay: z.number().int().min(0).max(100).default(2).describe("Most tasks autopilot starts here per day."),
    kinds: z
      .array(z.enum(AUTOPILOT_KINDS))
      .max(AUTOPILOT_KINDS.length)
      .default([...AUTOPILOT_KINDS])
      .describe("Finding kinds autopilot may pick: `todo`, `failing_check`, `stale_issue`, `issue`."),
    minScore: z.number().min(-1000).max(1000).default(0).describe("Autopilot skips findings scoring below this."),
  })
  .strict();
