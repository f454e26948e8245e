import { metrics } from "./metrics.js";

/**
 * The route class of a GitHub REST path, the first segment after `/repos/{owner}/{repo}` or the
 * first segment otherwise: `/repos/o/r/issues/1/comments` → `issues`, `/app/installations` → `app`.
 * Keeps the label's cardinality bounded whatever the path.
 */
export function githubRouteClass(path: string): string {
  const parts = path.split("?")[0]?.split("/").filter(Boolean) ?? [];
  const segment = parts[0] === "repos" ? (parts[3] ?? "repo") : (parts[0] ?? "root");
  return /^[a-z_-]{1,32}$/.test(segment) ? segment : "other";
}

/** Records one GitHub response (or a network failure when `status` is undefined) and its rate-limit headers. */
export function recordGithubRequest(path: string, status: number | undefined, headers?: Record<string, unknown>): void {
  const statusClass = status === undefined ? "error" : status === 304 ? "304" : `${Math.floor(status / 100)}xx`;
  metrics.githubRequests.inc({ route: githubRouteClass(path), status: statusClass });
  const remaining = Number(headers?.["x-ratelimit-remaining"]);
  const resource = String(headers?.["x-ratelimit-resource"] ?? "core");
  if (headers?.["x-ratelimit-remaining"] !== undefined && Number.isFinite(remaining)) {
    metrics.githubRateLimitRemaining.set({ resource }, remaining);
  }
}

/** The part of an Octokit instance the plugin below uses (structural, so any Octokit class fits). */
interface HookedOctokit {
  hook: {
    after(name: "request", fn: (response: { status: number; headers: Record<string, unknown> }, options: { url: string }) => void): void;
    error(name: "request", fn: (error: unknown, options: { url: string }) => unknown): void;
  };
}

/**
 * An Octokit plugin recording every GitHub request in `backlog_bot_github_requests_total` and the
 * rate-limit gauge: `ProbotOctokit.plugin(githubMetricsPlugin)` or `Octokit.plugin(...)`.
 * A 304 arrives as an error (Octokit throws on it); both paths are counted, and the error is rethrown.
 */
export function githubMetricsPlugin(octokit: HookedOctokit): void {
  octokit.hook.after("request", (response, options) => recordGithubRequest(pathOf(options.url), response.status, response.headers));
  octokit.hook.error("request", (error, options) => {
    const e = error as { status?: number; response?: { headers?: Record<string, unknown> } };
    recordGithubRequest(pathOf(options.url), typeof e.status === "number" && e.status > 0 ? e.status : undefined, e.response?.headers);
    throw error;
  });
}

/** The path of a request URL, absolute or a route template (`/repos/{owner}/{repo}/issues`). */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname.replace(/^\/api\/v3/, "");
  } catch {
    return url;
  }
}
