import { RequestError } from "@octokit/request-error";
import type { Octokit } from "@octokit/rest";

/** Annotations kept per check (GitHub returns at most 50 per page; the checks scanner keeps 20). */
export const MAX_ANNOTATIONS = 50;
/** Characters of a downloaded job log kept from its end before sanitising (the prompt keeps far less). */
const LOG_READ_CHARS = 256 * 1024;

/**
 * A failing check as the scanners store it (`FindingSignals` of a `failing_check` finding) or as a
 * `check_run` / `check_suite` webhook reports it. Missing annotations and log are fetched when
 * `checkRunId` / `jobId` are known. All text in it is untrusted.
 */
export interface CheckSource {
  /** The check's name, e.g. `test (20.x)`. */
  name: string;
  /** The commit the check ran on. */
  headSha: string;
  conclusion?: string | null;
  url?: string | null;
  /** `path:line: level: message` lines, as the checks scanner writes them. */
  annotations?: string[];
  /** The tail of the job log, when already known. */
  logExcerpt?: string;
  /** The check run's id (for GitHub Actions also the job id). */
  checkRunId?: number;
  /** A GitHub Actions job id, whose log `GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs` serves. */
  jobId?: number;
}

/** A check with everything the prompt shows of it, raw (formatting sanitises and caps it). */
export interface FetchedCheck {
  name: string;
  headSha: string;
  conclusion: string | null;
  url: string | null;
  annotations: string[];
  /** The check run's own output (title, summary, text), for checks that are not GitHub Actions jobs. */
  output: string;
  log: string;
}

interface Annotation {
  path: string;
  start_line: number;
  annotation_level?: string | null;
  title?: string | null;
  message: string;
}

/**
 * Completes a check from the API where the source lacks it: annotations (`GET .../check-runs/{id}/annotations`),
 * the run's output for a check that is not an Actions job (`GET .../check-runs/{id}`), and the job
 * log (`GET .../actions/jobs/{id}/logs`, only its last LOG_READ_CHARS). Without `octokit` the
 * source is used as it is.
 * @throws the Octokit RequestError of a failed request, except a missing log (404/410: logs expire), which leaves the log empty.
 */
export async function fetchCheck(octokit: Octokit | undefined, owner: string, repo: string, check: CheckSource): Promise<FetchedCheck> {
  const fetched: FetchedCheck = {
    name: check.name,
    headSha: check.headSha,
    conclusion: check.conclusion ?? null,
    url: check.url ?? null,
    annotations: check.annotations ?? [],
    output: "",
    log: check.logExcerpt ?? "",
  };
  if (!octokit) return fetched;
  const runId = check.checkRunId;
  if (runId !== undefined && check.annotations === undefined) {
    const { data } = await octokit.request("GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations", {
      owner,
      repo,
      check_run_id: runId,
      per_page: MAX_ANNOTATIONS,
    });
    fetched.annotations = (data as Annotation[])
      .slice(0, MAX_ANNOTATIONS)
      .map((a) => `${a.path}:${a.start_line}: ${a.annotation_level ?? "failure"}: ${a.title ? `${a.title}: ` : ""}${a.message}`);
  }
  if (runId !== undefined && check.jobId === undefined && !check.logExcerpt) {
    const { data } = await octokit.rest.checks.get({ owner, repo, check_run_id: runId });
    fetched.output = [data.output?.title, data.output?.summary, data.output?.text].filter(Boolean).join("\n\n");
    fetched.url ??= data.html_url ?? null;
  }
  if (check.jobId !== undefined && !check.logExcerpt) fetched.log = await jobLog(octokit, owner, repo, check.jobId);
  return fetched;
}

async function jobLog(octokit: Octokit, owner: string, repo: string, jobId: number): Promise<string> {
  try {
    // GitHub answers 302 to a short-lived download URL; the request follows it.
    const { data } = await octokit.rest.actions.downloadJobLogsForWorkflowRun({ owner, repo, job_id: jobId });
    const raw = data as unknown;
    const text = typeof raw === "string" ? raw : raw instanceof ArrayBuffer ? Buffer.from(raw).toString("utf8") : "";
    return text.slice(-LOG_READ_CHARS);
  } catch (error) {
    if (error instanceof RequestError && (error.status === 404 || error.status === 410)) return "";
    throw error;
  }
}
