import { z } from "zod";

/**
 * Repository options for verified pull requests (issue 10): how the repository's own tests run,
 * how many rounds an agent gets to make them pass, follow-ups on the bot's PRs, named workflows
 * (implement → review → refine) and parallel attempts. Kept apart from schema.ts so the group
 * reads as one piece; schema.ts mounts it.
 */

/** A host the verify commands may reach: `host`, `host:port` or `*.domain`, as the sandbox's allowlist takes them. */
const host = z
  .string()
  .max(253)
  .regex(
    /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/,
    "must be a host name such as `registry.npmjs.org` or `*.example.com`",
  );

/** `verify`: the repository's own checks, before and after the agent's change. */
export const verifyConfigSchema = z
  .object({
    command: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .describe(
        "Command that runs the tests, split into words like a shell would but run without one (write `sh -c '…'` for pipes). Default: detected (package.json `test` script, pytest, `go test ./...`, `cargo test`, `mvn -q test`, `make test`).",
      ),
    setup: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .describe(
        "Command run before `command` in each tree, e.g. `npm ci`. Default: the detected package manager's install, when there are dependencies.",
      ),
    timeoutS: z
      .number()
      .int()
      .min(10)
      .max(7200)
      .default(900)
      .describe("Seconds setup and command may take together in one tree; then the whole process group is killed."),
    maxRounds: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe(
        "Most agent rounds per task: after a round with new failures the agent continues with them, until the tests pass, a round makes no progress, or this bound.",
      ),
    onFailure: z
      .enum(["draft", "skip"])
      .default("draft")
      .describe(
        "When the tests still fail after the last round: `draft` opens the PR as a draft with the failures at the top; `skip` opens none and the task fails.",
      ),
    allowedHosts: z
      .array(host)
      .max(50)
      .optional()
      .describe("Hosts setup and tests may reach. Default: the detected package manager's registries (none for `make`)."),
  })
  .strict();

/** One step of a workflow. */
export const workflowStepSchema = z
  .object({
    role: z
      .enum(["implement", "review", "refine"])
      .describe("`implement` makes the change, `review` writes numbered suggestions, `refine` acts on them."),
    agent: z.string().min(1).max(50).optional().describe("Enabled agent for this step. Default: the task's agent."),
    maxIterations: z.number().int().min(1).max(5).default(1).describe("Most times this step runs in one task."),
    minSuggestions: z
      .number()
      .int()
      .min(0)
      .max(50)
      .optional()
      .describe("Review steps: the workflow stops when a review raises fewer suggestions than this."),
    stopWhenVerified: z.boolean().default(false).describe("Stop the workflow after this step when verification passed."),
  })
  .strict();

/** A named workflow: its steps, in order. */
export const workflowSchema = z.object({ steps: z.array(workflowStepSchema).min(1).max(10).describe("Steps in order.") }).strict();

/** Workflow names: what `/agent fix --workflow <name>` accepts. */
export const workflowName = z
  .string()
  .min(1)
  .max(50)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, "must be letters, digits, `-` or `_`");

/** `followUps`: work on the bot's own PRs after review or red CI. */
export const followUpsConfigSchema = z
  .object({
    max: z
      .number()
      .int()
      .min(0)
      .max(20)
      .default(3)
      .describe("Most follow-up tasks per pull request, review and CI together; then one summary comment."),
  })
  .strict();

/** `parallel`: the same task on several agents at once (`strategy: parallel`). */
export const parallelConfigSchema = z
  .object({
    max: z
      .number()
      .int()
      .min(1)
      .max(5)
      .default(2)
      .describe("Most agents one task runs at once with `strategy: parallel`; each counts against the run limits."),
  })
  .strict();
