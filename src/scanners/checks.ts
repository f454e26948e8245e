import { CONFIG_CHECK_NAME } from "../config/notify.js";
import { type Api, BudgetExhaustedError, hasNextPage, PER_PAGE, type RequestBudget } from "../github/http.js";
import type { Db } from "../store/db.js";
import { getFindingByFingerprint, resolveFinding, updateFindingSignals } from "../store/finding-lookup.js";
import { syncFindings } from "../store/findings.js";
import { getCursor, setCursor } from "../store/http-cache.js";
import type { Repository } from "../store/schema.js";
import type { Logger } from "../util/logger.js";
import type { Scanner } from "./registry.js";
import type { FindingSignals } from "./types.js";

/**
 * Conclusions that fail a check. GitHub treats `success`, `neutral` and `skipped` as passing a required
 * status check and everything else as blocking
 * (https://docs.github.com/en/repositories/configuring-branches-and-merges-in-your-repository/managing-protected-branches/about-protected-branches#require-status-checks-before-merging);
 * of the rest (https://docs.github.com/en/rest/checks/runs#create-a-check-run, `conclusion`) `cancelled`
 * and `stale` say nothing about the code, so they neither open nor resolve a finding.
 */
export const FAILING_CONCLUSIONS: ReadonlySet<string> = new Set(["failure", "timed_out", "startup_failure", "action_required"]);
/** Conclusions that count as the check passing. */
export const PASSING_CONCLUSIONS: ReadonlySet<string> = new Set(["success", "neutral", "skipped"]);

/** One completed check on the default branch, from a webhook or a listing. */
export interface CheckOutcome {
  name: string;
  headSha: string;
  conclusion: string | null;
  url: string | null;
  completedAt: string | null;
  /** The check run's id; for GitHub Actions it is also the job id. */
  checkRunId?: number;
  /** Set when the log can be fetched from `GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs`. */
  jobId?: number;
  annotationsCount?: number;
}

/** What is stored in a failing check's `signals`, beyond `FindingSignals`. */
export interface CheckSignals extends FindingSignals {
  completedAt?: string;
  checkRunId?: number;
}

/** Where outcomes are recorded, and the client used for annotations and logs. */
export interface CheckTarget {
  db: Db;
  api: Api;
  repository: Repository;
  owner: string;
  repo: string;
  log: Logger;
  budget?: RequestBudget;
}

const LOG_LINES = 30;
const LOG_CHARS = 4000;
const MAX_ANNOTATIONS = 20;

/** One finding per check name, so a check failing on successive commits stays one finding. */
export function checkFingerprint(name: string): string {
  return `failing_check:${name}`;
}

/** The tail of a job log, without the timestamp GitHub Actions puts before each line. */
export function logExcerpt(text: string): string {
  const lines = text
    .replace(/\r/g, "")
    .trimEnd()
    .split("\n")
    .map((l) => l.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, ""));
  return lines.slice(-LOG_LINES).join("\n").slice(-LOG_CHARS);
}

async function annotations(target: CheckTarget, outcome: CheckOutcome): Promise<string[] | undefined> {
  if (!outcome.checkRunId || !outcome.annotationsCount) return undefined;
  target.budget?.spend("annotations");
  const { data } = await target.api.request("GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations", {
    owner: target.owner,
    repo: target.repo,
    check_run_id: outcome.checkRunId,
    per_page: MAX_ANNOTATIONS,
  });
  return (data as { path: string; start_line: number; annotation_level?: string; message: string }[])
    .slice(0, MAX_ANNOTATIONS)
    .map((a) => `${a.path}:${a.start_line}: ${a.annotation_level ?? "failure"}: ${a.message}`);
}

async function jobLog(target: CheckTarget, jobId: number): Promise<string | undefined> {
  target.budget?.spend("job log");
  // GitHub answers 302 to a short-lived download URL; fetch follows it.
  const { data } = await target.api.request("GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs", {
    owner: target.owner,
    repo: target.repo,
    job_id: jobId,
  });
  const text = typeof data === "string" ? data : data instanceof ArrayBuffer ? Buffer.from(data).toString("utf8") : undefined;
  return text === undefined ? undefined : logExcerpt(text);
}

/**
 * Records one completed check on the default branch:
 * - failing: opens (or refreshes) the check's finding with annotations and a log excerpt;
 * - passing on the commit the finding failed on (or failing on a commit it passed on): the check is
 *   flaky, `signals.flaky` is set and the finding stays open (the prioritizer ranks it lower);
 * - passing on another, later commit: the finding is resolved.
 * Outcomes already recorded (same check run) and older than the stored failure are ignored.
 * @throws Octokit request errors from the annotation and log fetches.
 */
export async function recordCheckOutcome(target: CheckTarget, outcome: CheckOutcome): Promise<"failed" | "flaky" | "resolved" | "ignored"> {
  if (outcome.name === CONFIG_CHECK_NAME || !outcome.conclusion) return "ignored";
  const fingerprint = checkFingerprint(outcome.name);
  const existing = await getFindingByFingerprint(target.db, target.repository.id, fingerprint);
  const open = existing && existing.resolved_at === null ? existing : undefined;
  const stored = (open ? JSON.parse(open.signals) : {}) as CheckSignals;
  const passedCursor = `check.passed:${outcome.name}`;
  if (PASSING_CONCLUSIONS.has(outcome.conclusion)) {
    await setCursor(target.db, target.repository.id, passedCursor, outcome.headSha);
    if (!open) return "ignored";
    if (stored.headSha === outcome.headSha) {
      await updateFindingSignals(target.db, open.id, { ...stored, flaky: true });
      return "flaky";
    }
    if (stored.completedAt && outcome.completedAt && outcome.completedAt < stored.completedAt) return "ignored";
    await resolveFinding(target.db, open.id);
    return "resolved";
  }
  if (!FAILING_CONCLUSIONS.has(outcome.conclusion)) return "ignored";
  if (open && outcome.checkRunId !== undefined && stored.checkRunId === outcome.checkRunId) return "ignored";
  if (open && stored.completedAt && outcome.completedAt && outcome.completedAt < stored.completedAt) return "ignored";
  const passedHere = (await getCursor(target.db, target.repository.id, passedCursor)) === outcome.headSha;
  const signals: CheckSignals = {
    checkName: outcome.name,
    headSha: outcome.headSha,
    conclusion: outcome.conclusion,
    flaky: passedHere || stored.flaky === true || undefined,
    annotations: await annotations(target, outcome),
    logExcerpt: outcome.jobId ? await jobLog(target, outcome.jobId).catch(() => undefined) : undefined,
    ...(outcome.completedAt && { completedAt: outcome.completedAt }),
    ...(outcome.checkRunId !== undefined && { checkRunId: outcome.checkRunId }),
  };
  await syncFindings(
    target.db,
    target.repository.id,
    [
      {
        kind: "failing_check",
        fingerprint,
        title: `Failing check: ${outcome.name}`,
        body: `${outcome.conclusion} on ${target.repository.default_branch} at ${outcome.headSha.slice(0, 7)}`,
        ...(outcome.url && { url: outcome.url }),
        signals: JSON.parse(JSON.stringify(signals)) as CheckSignals,
      },
    ],
    // No paths: this call vouches for nothing else, so it resolves nothing.
    { kinds: ["failing_check"], paths: [] },
  );
  return passedHere ? "flaky" : "failed";
}

/** A check run as the REST API and webhooks describe it (https://docs.github.com/en/rest/checks/runs). */
export interface ApiCheckRun {
  id: number;
  name: string;
  head_sha: string;
  status?: string;
  conclusion: string | null;
  html_url?: string | null;
  details_url?: string | null;
  completed_at?: string | null;
  app?: { slug?: string } | null;
  output?: { annotations_count?: number } | null;
}

/** The outcome of a check run; GitHub Actions runs get a job id for their log. */
export function outcomeOfCheckRun(run: ApiCheckRun): CheckOutcome {
  return {
    name: run.name,
    headSha: run.head_sha,
    conclusion: run.conclusion,
    url: run.html_url ?? run.details_url ?? null,
    completedAt: run.completed_at ?? null,
    checkRunId: run.id,
    ...(run.app?.slug === "github-actions" && { jobId: run.id }),
    annotationsCount: run.output?.annotations_count ?? 0,
  };
}

/**
 * Scheduled safety net for missed webhooks: the check runs of the default branch's head commit
 * (`GET /repos/{owner}/{repo}/commits/{ref}/check-runs`, conditional, so an unchanged head costs a 304),
 * every page of them (100 per page; each page after the first counts against the request budget).
 *
 * The listing's ETag is stored only once every completed run was recorded: a run whose recording
 * failed (annotations answering 5xx or 404, the budget spent) would otherwise never be recorded, as
 * later scans of the same head get a 304. A run that fails does not stop the others; the first error
 * is thrown once they were all tried (a spent budget stops at once), and the next scan lists them
 * again, runs already recorded costing nothing (`recordCheckOutcome` ignores a recorded check run).
 * @throws Octokit request errors, `BudgetExhaustedError`.
 */
export const checksScanner: Scanner = {
  name: "checks",
  kinds: ["failing_check"],
  async scan(ctx) {
    const route = "GET /repos/{owner}/{repo}/commits/{ref}/check-runs" as const;
    const params = { owner: ctx.owner, repo: ctx.repo, ref: ctx.repository.default_branch, filter: "latest" as const, per_page: PER_PAGE };
    const response = await ctx.http.get<{ check_runs: ApiCheckRun[] }>(route, params);
    if (response.status === 304 || !response.data) return undefined;
    const target: CheckTarget = { ...ctx, api: ctx.api, budget: ctx.budget };
    let failure: unknown;
    const record = async (runs: ApiCheckRun[]) => {
      for (const run of runs) {
        if (run.status && run.status !== "completed") continue;
        try {
          await recordCheckOutcome(target, outcomeOfCheckRun(run));
        } catch (error) {
          if (error instanceof BudgetExhaustedError) throw error;
          ctx.log.warn({ err: error, check: run.name, checkRunId: run.id }, "check run not recorded; the next scan retries it");
          failure ??= error;
        }
      }
    };
    await record(response.data.check_runs);
    let more = hasNextPage(response.headers);
    for (let page = 2; more; page++) {
      ctx.budget.spend(`check runs page ${page}`);
      const next = await ctx.api.request(route, { ...params, page });
      await record((next.data as { check_runs: ApiCheckRun[] }).check_runs);
      more = hasNextPage(next.headers);
    }
    if (failure) throw failure;
    await response.commit();
    return undefined;
  },
};
