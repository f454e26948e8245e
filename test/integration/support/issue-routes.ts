import { createHash } from "node:crypto";
import type { GitHubStub, StubRequest, StubResponse } from "../../fixtures/github-stub.js";

/** An issue as the stub stores it (the REST shape, trimmed). */
export interface StubIssue {
  number: number;
  title: string;
  html_url: string;
  user: { login: string };
  state: "open" | "closed";
  created_at: string;
  updated_at: string;
  labels: { name: string }[];
  assignees: { login: string }[];
  milestone: { title: string } | null;
  comments: number;
  reactions: { total_count: number };
  pull_request?: { url: string };
}

/** Answers with an ETag of the body and honours `If-None-Match` with a body-less 304, as GitHub does. */
export function withEtag(req: StubRequest, body: unknown, headers: Record<string, string> = {}): StubResponse {
  const etag = `W/"${createHash("sha1").update(JSON.stringify(body)).digest("hex")}"`;
  if (req.headers["if-none-match"] === etag) return { status: 304, headers: { etag } };
  return { body, headers: { etag, ...headers } };
}

/** Counts answers by status, so tests can tell 304s from the rest. */
export interface StatusLog {
  statuses: number[];
  /** Ignore `If-None-Match`, as GitHub does once the installation token that got the ETag has rotated. */
  ignoreEtags?: boolean;
}

/**
 * Serves `GET /repos/:owner/:repo/issues` from `issues` like GitHub: `state`, `since`, `sort=updated`,
 * `direction`, `per_page` (max 100), `page`, a `Link` header with `rel="next"`, and ETags.
 */
export function routeIssues(stub: GitHubStub, issues: StubIssue[], log: StatusLog): void {
  stub.route("GET /repos/:owner/:repo/issues", (req) => {
    const state = req.query.get("state") ?? "open";
    const since = req.query.get("since");
    const perPage = Math.min(Number(req.query.get("per_page") ?? 30), 100);
    const page = Number(req.query.get("page") ?? 1);
    let list = issues.filter((i) => state === "all" || i.state === state);
    if (since) list = list.filter((i) => i.updated_at >= since);
    const desc = (req.query.get("direction") ?? "desc") === "desc";
    list = [...list].sort((a, b) => (desc ? b.updated_at.localeCompare(a.updated_at) : a.updated_at.localeCompare(b.updated_at)));
    const body = list.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (page * perPage < list.length) {
      const next = new URLSearchParams(req.query);
      next.set("page", String(page + 1));
      headers.link = `<${stub.baseUrl}/repos/${req.params.owner}/${req.params.repo}/issues?${next}>; rel="next"`;
    }
    const answer = log.ignoreEtags ? { body, headers } : withEtag(req, body, headers);
    log.statuses.push(answer.status ?? 200);
    return answer;
  });
}

/** Serves `.github/backlog-bot.yml` (raw), with ETags; `text()` undefined answers 404. */
export function routeConfig(stub: GitHubStub, text: () => string | undefined, log: StatusLog): void {
  stub.route("GET /repos/:owner/:repo/contents/:path", (req) => {
    const content = req.params.path === ".github/backlog-bot.yml" ? text() : undefined;
    const answer: StubResponse = content === undefined ? { status: 404, body: { message: "Not Found" } } : withEtag(req, content);
    log.statuses.push(answer.status ?? 200);
    return answer;
  });
}

/** `count` issues, issue n last updated n days before `now`, with labels, assignees and milestones on a pattern. */
export function makeIssues(count: number, now: Date): StubIssue[] {
  const day = 24 * 60 * 60 * 1000;
  return Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    const labels = [n % 10 === 0 ? "pinned" : undefined, n % 7 === 0 ? "bug" : undefined].filter((l): l is string => !!l);
    return {
      number: n,
      title: `Issue ${n}`,
      html_url: `https://github.com/octo/big/issues/${n}`,
      user: { login: `user${n % 4}` },
      state: "open" as const,
      created_at: new Date(now.getTime() - (n + 30) * day).toISOString(),
      updated_at: new Date(now.getTime() - n * day).toISOString(),
      labels: labels.map((name) => ({ name })),
      assignees: n % 11 === 0 ? [{ login: "octocat" }] : [],
      milestone: n % 13 === 0 ? { title: "v2" } : null,
      comments: n % 5,
      reactions: { total_count: n % 3 },
    };
  });
}
