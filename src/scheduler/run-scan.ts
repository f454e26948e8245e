import { loadConfig } from "../config/load.js";
import type { RepoConfig, ScannerName } from "../config/schema.js";
import { mirrorPath } from "../git/workspace.js";
import { type Api, conditionalGet, RequestBudget } from "../github/http.js";
import { enabledScanners, type ScanContext } from "../scanners/registry.js";
import type { Db } from "../store/db.js";
import { type SyncSummary, syncFindings } from "../store/findings.js";
import type { Repository } from "../store/schema.js";
import type { Logger } from "../util/logger.js";
import { metrics } from "../util/metrics.js";
import { refreshGitAttributes } from "./git-attributes.js";

/** Requests one scheduled scan of one repository may make (reads and writes): a 10,000-issue repository's full listing fits. */
export const DEFAULT_SCAN_BUDGET = 250;

/** How to scan one repository. */
export interface ScanRepositoryOptions {
  db: Db;
  api: Api;
  repository: Repository;
  dataDir: string;
  /** Identity the ETags are stored under (`installation:<id>` or `token:<hash>`): ETags vary with authorization. */
  cacheScope: string;
  token: () => Promise<string | undefined>;
  log: Logger;
  /** Only these scanners (still limited to those the config enables). */
  only?: ScannerName[];
  budget?: RequestBudget;
  now?: Date;
}

/** What one scan did: per scanner, the stored counts or the error; and the requests it cost. */
export interface ScanReport {
  config: RepoConfig;
  configError: string | null;
  scanners: Record<string, SyncSummary | { stored: "by scanner" } | { error: string }>;
  requests: number;
  notModified: number;
}

/**
 * Reads the repository's config, runs the scanners it enables and stores their findings. A scanner
 * that fails is logged with its cause and reported; the others still run (it is retried next time).
 * After a TODO scan, the scanned branch's `.gitattributes` is read from the same mirror and stored
 * for the ranking (`refreshGitAttributes`). Never throws for a scanner failure or a bad config.
 */
export async function scanRepository(options: ScanRepositoryOptions): Promise<ScanReport> {
  const { db, api, repository, log } = options;
  const budget = options.budget ?? new RequestBudget(DEFAULT_SCAN_BUDGET);
  const outcome = await loadConfig(api, db, repository, log, { cacheScope: options.cacheScope, budget });
  const [owner = "", repo = ""] = repository.full_name.split("/");
  const ctx: ScanContext = {
    db,
    repository,
    owner,
    repo,
    config: outcome.config,
    api,
    http: {
      get: (route, params, cacheKey) =>
        conditionalGet(api, db, { route, params, cacheScope: options.cacheScope, budget, ...(cacheKey && { cacheKey }) }),
    },
    budget,
    dataDir: options.dataDir,
    token: options.token,
    log,
    now: options.now ?? new Date(),
    shared: new Map(),
  };
  const report: ScanReport = { config: outcome.config, configError: outcome.error, scanners: {}, requests: 0, notModified: 0 };
  for (const scanner of enabledScanners(outcome.config)) {
    if (options.only && !options.only.includes(scanner.name)) continue;
    const started = Date.now();
    try {
      const result = await scanner.scan(ctx);
      report.scanners[scanner.name] = result
        ? await syncFindings(db, repository.id, result.findings, result.scope)
        : { stored: "by scanner" };
      log.info({ scanner: scanner.name, ms: Date.now() - started, ...report.scanners[scanner.name] }, "scanner finished");
      metrics.scans.inc({ kind: scanner.name, outcome: "ok" });
    } catch (error) {
      metrics.scans.inc({ kind: scanner.name, outcome: "failed" });
      report.scanners[scanner.name] = { error: (error as Error).message };
      log.error({ err: error, scanner: scanner.name }, "scanner failed; the next scan retries it");
    } finally {
      metrics.scanDuration.observe({ kind: scanner.name }, (Date.now() - started) / 1000);
    }
  }
  const todo = report.scanners.todo;
  if (todo && !("error" in todo)) {
    // The TODO scanner fetched the mirror and scanned this ref (src/scanners/registry.ts); its
    // `ctx.repository` may carry a default branch learnt during the scan.
    const scanned = ctx.repository;
    const mirror = mirrorPath(options.dataDir, scanned.full_name);
    await refreshGitAttributes(db, scanned, mirror, `refs/remotes/origin/${scanned.default_branch}`, log);
  }
  report.requests = budget.used;
  report.notModified = budget.notModified;
  return report;
}
