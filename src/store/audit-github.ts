import { recordAudit } from "./audit.js";
import type { Db } from "./db.js";

/** The part of an Octokit instance the plugin uses (structural: any Octokit class fits). */
interface HookedOctokit {
  hook: {
    after(name: "request", fn: (response: { status: number }, options: RequestOptions) => Promise<void>): void;
    error(name: "request", fn: (error: unknown, options: RequestOptions) => Promise<unknown>): void;
  };
}
interface RequestOptions {
  method: string;
  url: string;
  [param: string]: unknown;
}

const VERBS: Record<string, string> = { POST: "create", PATCH: "update", PUT: "set", DELETE: "delete" };

/**
 * What a write request did, as an audit row's action and target: the last fixed segment of the
 * route template and the verb (`POST /repos/{owner}/{repo}/issues/{issue_number}/comments` →
 * `github.comments.create` on `issue#12`). Undefined for reads, GraphQL and the app's own
 * authentication (`/app/...`: minting tokens is not an act on a repository).
 */
export function describeWrite(options: RequestOptions): { action: string; repository: string | null; target: string | null } | undefined {
  const verb = VERBS[options.method.toUpperCase()];
  const template = options.url.split("?")[0] ?? "";
  if (!verb || template.startsWith("/app") || template.includes("graphql") || /^https?:/.test(template)) return undefined;
  const fixed = template.split("/").filter((part) => part && !part.startsWith("{"));
  const noun = fixed.at(-1) ?? "request";
  const number = options.issue_number ?? options.pull_number;
  const target =
    number !== undefined
      ? `${options.pull_number !== undefined ? "pr" : "issue"}#${String(number)}`
      : options.check_run_id !== undefined
        ? `check_run:${String(options.check_run_id)}`
        : typeof options.name === "string"
          ? options.name
          : typeof options.ref === "string"
            ? options.ref
            : null;
  const repository = typeof options.owner === "string" && typeof options.repo === "string" ? `${options.owner}/${options.repo}` : null;
  return { action: `github.${noun}.${verb}`, repository, target };
}

/**
 * An Octokit plugin that writes one audit row per write the bot makes on GitHub (comments, pull
 * requests, labels, check runs, reactions...), with its outcome: `ok`, or `failed` with GitHub's
 * status. Reads are not audited. A failed audit write is reported to `onError`, never to the
 * request. Use: `ProbotOctokit.plugin(auditGithubWrites(db))`.
 */
export function auditGithubWrites(
  db: Db,
  onError: (error: unknown) => void = () => {},
  actor = "backlog-bot",
): (octokit: HookedOctokit) => void {
  const record = async (options: RequestOptions, outcome: string, status: number | undefined) => {
    const write = describeWrite(options);
    if (!write) return;
    try {
      await recordAudit(db, { actor, ...write, outcome, detail: { method: options.method, route: options.url, status } });
    } catch (error) {
      onError(error);
    }
  };
  return (octokit) => {
    octokit.hook.after("request", (response, options) => record(options, "ok", response.status));
    octokit.hook.error("request", async (error, options) => {
      const status = (error as { status?: number }).status;
      await record(options, "failed", typeof status === "number" ? status : undefined);
      throw error;
    });
  };
}
