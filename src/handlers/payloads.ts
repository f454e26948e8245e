import { z } from "zod";

/** The repository fields handlers read. */
const repository = z.object({
  /** GitHub's repository id; optional, so a payload without it is still handled (nothing is then followed by id). */
  id: z.number().int().positive().optional(),
  full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/),
  name: z.string(),
  owner: z.object({ login: z.string() }),
  default_branch: z.string().optional(),
  clone_url: z.string().optional(),
});
const installation = z.object({ id: z.number().int().positive() });
const withRepository = z.object({ repository, installation: installation.optional() });
const user = z.object({ login: z.string(), type: z.string().optional() }).nullable().optional();
/** Who caused an event: GitHub always sends it, and the `issues` handler reads its login and type. */
const sender = z.object({ login: z.string(), type: z.string() });

/**
 * The fields each handled event's handler reads, checked before the handler runs: a signed payload
 * that lacks them (a malformed sender, an event shape we do not know) is a recorded, logged failure
 * with the missing field's path, never a `TypeError` inside a handler. Passthrough: other fields stay.
 */
export const PAYLOAD_SCHEMAS: Record<string, z.ZodType> = {
  "issue_comment.created": withRepository.extend({
    issue: z.object({ number: z.number().int(), title: z.string(), state: z.string(), pull_request: z.unknown().optional() }),
    comment: z.object({ id: z.number(), body: z.string().nullable(), user, created_at: z.string().optional() }),
  }),
  ...Object.fromEntries(
    ["opened", "edited", "labeled", "unlabeled", "closed", "reopened"].map((action) => [
      `issues.${action}`,
      withRepository.extend({ issue: z.object({ number: z.number().int(), title: z.string(), state: z.string() }), sender }),
    ]),
  ),
  "pull_request_review.submitted": withRepository.extend({
    review: z.object({ id: z.number(), state: z.string(), user }),
    pull_request: z.object({ number: z.number().int() }),
  }),
  "pull_request.closed": withRepository.extend({
    pull_request: z.object({ number: z.number().int(), merged: z.boolean().nullable().optional() }),
  }),
  "pull_request.reopened": withRepository.extend({ pull_request: z.object({ number: z.number().int() }) }),
  "installation.created": z.object({ installation, repositories: z.array(z.object({ full_name: z.string() })).optional() }),
  "installation.deleted": z.object({ installation, repositories: z.array(z.object({ full_name: z.string() })).optional() }),
  "installation.suspend": z.object({ installation: installation.extend({ suspended_at: z.string().nullish() }) }),
  "installation.unsuspend": z.object({ installation }),
  "installation_repositories.added": z.object({ installation, repositories_added: z.array(z.object({ full_name: z.string() })) }),
  "installation_repositories.removed": z.object({ installation, repositories_removed: z.array(z.object({ full_name: z.string() })) }),
  "repository.renamed": withRepository.extend({
    changes: z.object({ repository: z.object({ name: z.object({ from: z.string() }) }) }).optional(),
  }),
  "repository.transferred": withRepository.extend({
    changes: z
      .object({
        owner: z.object({
          from: z.object({ user: z.object({ login: z.string() }).nullish(), organization: z.object({ login: z.string() }).nullish() }),
        }),
      })
      .optional(),
  }),
  push: withRepository.extend({ ref: z.string(), after: z.string().optional(), deleted: z.boolean().optional() }),
  "check_run.completed": withRepository.extend({ check_run: z.object({ id: z.number(), name: z.string() }) }),
  "check_suite.completed": withRepository.extend({ check_suite: z.object({ id: z.number() }) }),
  "workflow_run.completed": withRepository.extend({ workflow_run: z.object({ id: z.number() }) }),
};

/**
 * Checks a payload against the schema of `key` (`event.action` or `event`).
 * @returns null when it has what its handler reads (or no handler reads it), else the problem with its field path.
 */
export function payloadProblem(key: string, payload: unknown): string | null {
  const schema = PAYLOAD_SCHEMAS[key];
  if (!schema) return null;
  const parsed = schema.safeParse(payload);
  if (parsed.success) return null;
  return parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "(payload)"}: ${i.message}`)
    .join("; ");
}
