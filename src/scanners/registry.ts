import type { RepoConfig, ScannerName } from "../config/schema.js";
import { syncMirror } from "../git/workspace.js";
import type { Api, ConditionalResponse, RequestBudget } from "../github/http.js";
import { attributionStore } from "../store/attribution.js";
import type { Db } from "../store/db.js";
import { upsertRepository } from "../store/repositories.js";
import type { Repository } from "../store/schema.js";
import type { Logger } from "../util/logger.js";
import { checksScanner } from "./checks.js";
import { issuesScanner } from "./issues.js";
import { staleScanner } from "./stale.js";
import { scanTodos } from "./todo.js";
import type { FindingKind, ScanResult } from "./types.js";

/** Everything a scanner may use during one scan of one repository. */
export interface ScanContext {
  db: Db;
  /** The repository row; `refreshRepository` may replace it with fresher metadata during the scan. */
  repository: Repository;
  owner: string;
  repo: string;
  /** The repository's config in force (validated; the last valid one when the file is broken). */
  config: RepoConfig;
  /** ProbotOctokit for the repository's installation (throttling and retry on). */
  api: Api;
  /** Conditional GET through the ETag cache, counted against `budget`; `cacheKey` names a row whose URL moves. */
  http: { get<T>(route: string, params: Record<string, unknown>, cacheKey?: string): Promise<ConditionalResponse<T>> };
  /** Requests this run may still make. */
  budget: RequestBudget;
  /** Data directory (mirrors live under it). */
  dataDir: string;
  /** A token git may fetch with; undefined for local clone URLs. */
  token(): Promise<string | undefined>;
  log: Logger;
  /** The scan's clock, so tests can pin "now". */
  now: Date;
  /** Per-run memo shared by scanners (e.g. the open-issue listing). */
  shared: Map<string, unknown>;
}

/**
 * One source of findings. `scan` returns what it saw and the scope it vouches for (the runner stores
 * it with `syncFindings`), or undefined when it stored its outcome itself (the checks scanner, which
 * never resolves by absence).
 */
export interface Scanner {
  name: ScannerName;
  kinds: FindingKind[];
  scan(ctx: ScanContext): Promise<ScanResult | undefined>;
}

/**
 * Fills in what an installation event does not say (clone URL, real default branch) from
 * `GET /repos/{owner}/{repo}`, once: the row is updated, and `ctx.repository` with it.
 */
export async function refreshRepository(ctx: ScanContext): Promise<Repository> {
  if (ctx.repository.clone_url) return ctx.repository;
  ctx.budget.spend("repository");
  const { data } = await ctx.api.request("GET /repos/{owner}/{repo}", { owner: ctx.owner, repo: ctx.repo });
  const meta = data as { clone_url: string; default_branch: string };
  ctx.repository = await upsertRepository(ctx.db, {
    fullName: ctx.repository.full_name,
    cloneUrl: meta.clone_url,
    defaultBranch: meta.default_branch,
  });
  return ctx.repository;
}

/** The whole default branch, in the repository's cached bare mirror (fetched up to date first). */
export const todoScanner: Scanner = {
  name: "todo",
  kinds: ["todo"],
  async scan(ctx) {
    const repository = await refreshRepository(ctx);
    const token = await ctx.token();
    const mirror = await syncMirror({
      dataDir: ctx.dataDir,
      fullName: repository.full_name,
      cloneUrl: repository.clone_url ?? "",
      defaultBranch: repository.default_branch,
      ...(token && { token }),
    });
    const result = await scanTodos({
      cwd: mirror,
      rev: `refs/remotes/origin/${repository.default_branch}`,
      keywords: ctx.config.todo.keywords,
      exclude: ctx.config.todo.exclude,
      include: ctx.config.todo.include,
      cache: attributionStore(ctx.db, repository.id),
    });
    if (result.leftOut)
      ctx.log.warn(
        { leftOut: result.leftOut, kept: result.findings.length },
        "TODO scan kept the first findings in path order and left the rest out; todo.exclude can skip generated or vendored trees",
      );
    return { findings: result.findings, scope: { kinds: ["todo"] } };
  },
};

/**
 * Scanner name -> scanner (Renovate's `api.ts` pattern): adding one is a file and a line here.
 * The repository config's `scanners` chooses which run.
 */
export const scanners: Readonly<Record<ScannerName, Scanner>> = {
  todo: todoScanner,
  stale: staleScanner,
  checks: checksScanner,
  issues: issuesScanner,
};

/** The scanners a config turns on, in registry order. */
export function enabledScanners(config: RepoConfig): Scanner[] {
  return Object.values(scanners).filter((s) => config.scanners.includes(s.name));
}
