import { validate as isCron } from "node-cron";
import { z } from "zod";
import { DEFAULT_KEYWORDS } from "../scanners/todo.js";
import { compileGlob, GlobError } from "../util/glob.js";
import { autopilotConfigSchema, dashboardConfigShape } from "./dashboard-schema.js";
import { followUpsConfigSchema, parallelConfigSchema, verifyConfigSchema, workflowName, workflowSchema } from "./verify-schema.js";

/** Names of the scanners a repository can turn on (see `src/scanners/registry.ts`). */
export const SCANNER_NAMES = ["todo", "stale", "checks", "issues"] as const;
/** One of `SCANNER_NAMES`. */
export type ScannerName = (typeof SCANNER_NAMES)[number];

/** Bounded string lists: a config file cannot make a scan do unbounded work. */
const names = (max: number) => z.array(z.string().min(1).max(100)).max(max);

/** Glob patterns (src/util/glob.ts): bounded lists, each compiling within its alternatives limit. */
const globs = (max: number) =>
  names(max).superRefine((patterns, ctx) => {
    for (const [index, pattern] of patterns.entries()) {
      try {
        compileGlob(pattern);
      } catch (error) {
        if (!(error instanceof GlobError)) throw error;
        ctx.addIssue({ code: "custom", path: [index], message: error.message });
      }
    }
  });

/** Whether `tz` is an IANA time zone this Node.js build knows. */
function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Staleness, with the names and defaults of actions/stale
 * (https://github.com/actions/stale#list-of-input-options), as arrays instead of comma-separated strings.
 */
export const staleConfigSchema = z
  .object({
    /** actions/stale `days-before-stale`: days without an update before an open issue is stale. */
    daysBeforeStale: z.number().int().min(1).max(3650).default(60).describe("Days without any update before an open issue is stale."),
    /** actions/stale `exempt-issue-labels`: issues with any of these labels are never stale (case-insensitive). */
    exemptLabels: names(100).default([]).describe("Issues carrying any of these labels are never stale (case-insensitive)."),
    /** actions/stale `only-labels`: when set, only issues carrying all of these labels can become stale. */
    onlyLabels: names(100).default([]).describe("When not empty, only issues carrying all of these labels can become stale."),
    /** actions/stale `exempt-assignees`: issues assigned to any of these logins are never stale. */
    exemptAssignees: names(100).default([]).describe("Issues assigned to any of these logins are never stale."),
    /** actions/stale `exempt-all-assignees`: any assigned issue is never stale. */
    exemptAllAssignees: z.boolean().default(false).describe("Issues with any assignee are never stale."),
    /** actions/stale `exempt-milestones`: issues in any of these milestones (by title) are never stale. */
    exemptMilestones: names(100).default([]).describe("Issues in any of these milestones (by title) are never stale."),
    /** actions/stale `exempt-all-milestones`: any issue with a milestone is never stale. */
    exemptAllMilestones: z.boolean().default(false).describe("Issues with any milestone are never stale."),
    /** Off by default: stale issues only enter the backlog. When true, they are labelled and commented like actions/stale does. */
    mark: z
      .boolean()
      .default(false)
      .describe("Also label and comment on stale issues, as actions/stale does. Off: they only enter the backlog."),
    /** actions/stale `stale-issue-label`. */
    staleLabel: z.string().min(1).max(50).default("Stale").describe("Label added to a stale issue when `mark` is on."),
    /** actions/stale `stale-issue-message`. */
    staleMessage: z
      .string()
      .min(1)
      .max(2000)
      .default("This issue has had no activity for a while, so backlog-bot marked it stale. Comment or remove the label to keep it fresh.")
      .describe("Comment posted on a stale issue when `mark` is on."),
    /** actions/stale `operations-per-run` (default 30): most label and comment writes one scan makes. */
    operationsPerRun: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(30)
      .describe("Most writes (labels, comments) one scan makes when `mark` is on."),
  })
  .strict();

/** Code-comment markers, with the option names of JasonEtco/todo (https://github.com/JasonEtco/todo#configuring-for-your-project). */
export const todoConfigSchema = z
  .object({
    /** JasonEtco/todo `keyword`: markers that make a comment a TODO, matched case-sensitively as whole words. */
    keywords: names(20)
      .min(1)
      .default([...DEFAULT_KEYWORDS])
      .describe("Markers that make a comment a TODO, matched case-sensitively as whole words."),
    /** JasonEtco/todo `exclude`, as glob patterns: files never scanned for TODOs. */
    exclude: globs(100)
      .default([])
      .describe(
        "Glob patterns of files never scanned for TODOs (e.g. `vendor/**`): `*`, `**` as a whole segment, `?`, `[...]`, `{a,b}` (at most 64 alternatives), `\\` escapes, a leading `!`; extglobs such as `+(a|b)` match their own characters. A pattern without `/` matches top-level paths only (`**/*.min.js` for any depth).",
      ),
    /**
     * The ranking's counterpart of `exclude` (src/prioritizer/paths.ts `PathPolicy.include`): paths
     * that are first-party even inside a vendored tree, a `linguist-vendored` or `linguist-generated` rule, or a generated file name.
     */
    include: globs(100)
      .default([])
      .describe(
        "Glob patterns of paths scanned and ranked as your own code even inside a vendored tree (`vendor/`, `third_party/` and `node_modules/` are otherwise never scanned) or a `linguist-vendored`/`linguist-generated` rule (e.g. `third_party/ours/**`). `exclude` still wins.",
      ),
    /** `PathPolicy.vendored`: what the ranking does with vendored code (Linguist's vendor.yml trees and `linguist-vendored`). */
    vendored: z
      .enum(["demote", "skip"])
      .default("demote")
      .describe(
        "Findings in vendored code (`linguist-vendored` in `.gitattributes`, or trees such as `vendor/`, `third_party/`, `deps/`): `demote` ranks them below your own code, `skip` leaves them out of the backlog.",
      ),
  })
  .strict();

/** Labelled issues that are work as they stand (a `bug` needs no staleness to be worth fixing). */
export const issuesConfigSchema = z
  .object({
    /** Open issues carrying any of these labels (case-insensitive) enter the backlog as work. */
    labels: names(50).default(["bug"]).describe("Open issues carrying any of these labels (case-insensitive) enter the backlog."),
  })
  .strict();

/**
 * `.github/backlog-bot.yml`. Every field has a default, so an empty file (or none) is valid.
 * Unknown keys are errors, so a typo is reported rather than silently ignored.
 */
export const repoConfigSchema = z
  .object({
    /** Agent to run when `/agent fix` names none; must be one the operator enabled. Default: the operator's first. */
    agent: z
      .string()
      .max(50)
      .optional()
      .describe("Agent to run when `/agent fix` names none. Default: the operator's first enabled agent."),
    /** Most draft PRs the app keeps open in this repository at once (Renovate's `prConcurrentLimit`). */
    prConcurrentLimit: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(3)
      .describe("Most tasks open here at once: queued, running, or with their draft pull request open. 0: no limit."),
    /** Renovate's `prHourlyLimit` (https://docs.renovatebot.com/configuration-options/#prhourlylimit): tasks started per clock hour. */
    prHourlyLimit: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(2)
      .describe("Most tasks started here in any hour (Renovate's `prHourlyLimit`). 0: no limit."),
    /** Agent runs (attempts, rounds, follow-ups) per repository per 24 hours. */
    dailyRunLimit: z.number().int().min(0).max(10_000).default(20).describe("Most agent runs here in any 24 hours. 0: no limit."),
    /** Bot accounts (logins) allowed to trigger agent work. Default: none. */
    allowedBots: names(50).default([]).describe("Bot logins allowed to trigger agent work."),
    /**
     * Renovate's `schedule`, as one five-field cron expression (https://docs.renovatebot.com/configuration-options/#schedule).
     * Absent: daily, at a minute and hour derived from the repository name, so installations do not all scan at once.
     */
    schedule: z
      .string()
      .max(100)
      .refine((s) => s.trim().split(/\s+/).length === 5 && isCron(s), "must be a five-field cron expression, e.g. `30 4 * * *`")
      .optional()
      .describe(
        "When scheduled scans run, as a five-field cron expression. Default: once a day at a time derived from the repository name.",
      ),
    /** Renovate's `timezone` (an IANA name) for `schedule`. */
    timezone: z
      .string()
      .max(64)
      .refine(isTimeZone, "must be an IANA time zone such as `Europe/Berlin`")
      .default("UTC")
      .describe("IANA time zone in which `schedule` is read."),
    /** Which scanners run on the schedule and on webhooks. */
    scanners: z
      .array(z.enum(SCANNER_NAMES))
      .max(SCANNER_NAMES.length)
      .default([...SCANNER_NAMES])
      .describe("Scanners that run: `todo`, `stale`, `checks`, `issues`."),
    /** Staleness (actions/stale). */
    stale: staleConfigSchema.prefault({}).describe("Stale issues, with actions/stale's option names."),
    /** Code-comment markers (JasonEtco/todo). */
    todo: todoConfigSchema.prefault({}).describe("TODO comments, with JasonEtco/todo's option names."),
    /** Labelled issues. */
    issues: issuesConfigSchema.prefault({}).describe("Issues that are work because of their labels."),
    /** Verified pull requests (issue 10, src/config/verify-schema.ts). */
    verify: verifyConfigSchema.prefault({}).describe("The repository's own tests, run before and after the agent's change."),
    followUps: followUpsConfigSchema.prefault({}).describe("Follow-ups on the bot's own pull requests after a review or red CI."),
    workflow: workflowName.optional().describe("Workflow (from `workflows`) used when a request names none. Default: one implement step."),
    workflows: z
      .record(workflowName, workflowSchema)
      .default({})
      .describe(
        "Named workflows, each `{ steps: [{ role, agent, maxIterations, minSuggestions, stopWhenVerified }] }`; `role` is `implement`, `review` (writes numbered suggestions) or `refine` (acts on them).",
      ),
    strategy: z
      .enum(["single", "parallel"])
      .default("single")
      .describe("`parallel` runs the task on several enabled agents at once and keeps the verified change with the smallest diff."),
    parallel: parallelConfigSchema.prefault({}).describe("Parallel attempts."),
    /** The dashboard issue and autopilot (issue 9, src/config/dashboard-schema.ts). */
    ...dashboardConfigShape,
    autopilot: autopilotConfigSchema.prefault({}).describe("Start agents on the top-ranked findings by schedule (off by default)."),
  })
  .strict();

/** A validated repository config, every default filled in. */
export type RepoConfig = z.infer<typeof repoConfigSchema>;
/** The `stale` group of a `RepoConfig`. */
export type StaleConfig = RepoConfig["stale"];
/** The `verify` group of a `RepoConfig`. */
export type VerifyConfig = RepoConfig["verify"];

/** The config in force when a repository has no file. */
export const DEFAULT_CONFIG: RepoConfig = repoConfigSchema.parse({});
