import { hasNextPage, PER_PAGE } from "../github/http.js";
import { getCursor, setCursor } from "../store/http-cache.js";
import { applyIssueListing, type IssueSnapshot, listIssueSnapshots } from "../store/issue-snapshots.js";
import type { ScanContext } from "./registry.js";
import type { FindingSignals } from "./types.js";

/** A full listing is redone this often (ms), to drop issues deleted or transferred, which `since` never reports. */
export const FULL_LISTING_EVERY_MS = 7 * 24 * 60 * 60 * 1000;
const SINCE = "issues.since";
const FULL_AT = "issues.fullListingAt";

/** The fields of a REST issue (or an `issues` webhook's issue) the scanners read (https://docs.github.com/en/rest/issues/issues#list-repository-issues). */
export interface ApiIssue {
  number: number;
  title: string;
  html_url: string;
  state?: string;
  user?: { login: string } | null;
  created_at: string;
  updated_at: string;
  labels?: (string | { name?: string })[];
  assignees?: { login: string }[] | null;
  milestone?: { title: string } | null;
  reactions?: { total_count?: number };
  comments?: number;
  pull_request?: unknown;
}

/** What the store keeps of an issue, from the REST or webhook shape. */
export function toSnapshot(issue: ApiIssue): IssueSnapshot {
  return {
    number: issue.number,
    title: issue.title,
    url: issue.html_url,
    author: issue.user?.login ?? null,
    createdAt: issue.created_at,
    updatedAt: issue.updated_at,
    labels: (issue.labels ?? []).map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter(Boolean),
    assignees: (issue.assignees ?? []).map((a) => a.login),
    milestone: issue.milestone?.title ?? null,
    reactions: issue.reactions?.total_count ?? 0,
    comments: issue.comments ?? 0,
  };
}

/**
 * The repository's open issues (pull requests excluded), kept in the store and brought up to date
 * cheaply: the first time (and weekly) a full listing at 100 per page; otherwise one conditional
 * request for what changed `since` the newest update seen, which GitHub answers `304 Not Modified`
 * (free of rate limit) when nothing did. Memoised per scan run, so the stale and issue scanners share it.
 *
 * The `since` answer's ETag is stored only after the whole listing (every page) was applied and the
 * cursor moved: if a later page fails (5xx, request budget spent, secondary rate limit), the next scan
 * gets page 1 in full again instead of a 304 for changes it never applied.
 * @throws Octokit request errors and `BudgetExhaustedError`; the snapshot and cursor are then unchanged.
 */
export function openIssues(ctx: ScanContext): Promise<IssueSnapshot[]> {
  let pending = ctx.shared.get("openIssues") as Promise<IssueSnapshot[]> | undefined;
  if (!pending) {
    pending = refresh(ctx).then(() => listIssueSnapshots(ctx.db, ctx.repository.id));
    ctx.shared.set("openIssues", pending);
  }
  return pending;
}

async function refresh(ctx: ScanContext): Promise<void> {
  const id = ctx.repository.id;
  const since = await getCursor(ctx.db, id, SINCE);
  const fullAt = await getCursor(ctx.db, id, FULL_AT);
  const full = !since || !fullAt || ctx.now.getTime() - Date.parse(fullAt) > FULL_LISTING_EVERY_MS;
  const base = { owner: ctx.owner, repo: ctx.repo, per_page: PER_PAGE, sort: "updated" as const };
  const open: IssueSnapshot[] = [];
  const closed: number[] = [];
  let newest = since ?? "";
  let commit = async () => {};
  const take = (items: ApiIssue[]) => {
    for (const issue of items) {
      if (issue.updated_at > newest) newest = issue.updated_at;
      if (issue.pull_request || issue.state === "closed") closed.push(issue.number);
      else open.push(toSnapshot(issue));
    }
  };
  if (full) {
    for (let page = 1; ; page++) {
      ctx.budget.spend(`issues page ${page}`);
      const response = await ctx.api.request("GET /repos/{owner}/{repo}/issues", { ...base, state: "open", direction: "desc", page });
      take(response.data as ApiIssue[]);
      if (!hasNextPage(response.headers)) break;
    }
  } else {
    // Ascending, so an issue updated while we page moves to the end instead of shifting pages under us.
    const params = { ...base, state: "all" as const, direction: "asc" as const, since };
    const first = await ctx.http.get<ApiIssue[]>("GET /repos/{owner}/{repo}/issues", params, `issues-since ${ctx.repository.full_name}`);
    if (first.status === 304) return;
    commit = first.commit;
    take(first.data ?? []);
    let more = hasNextPage(first.headers);
    for (let page = 2; more; page++) {
      ctx.budget.spend(`issues page ${page}`);
      const response = await ctx.api.request("GET /repos/{owner}/{repo}/issues", { ...params, page });
      take(response.data as ApiIssue[]);
      more = hasNextPage(response.headers);
    }
  }
  await applyIssueListing(ctx.db, id, { open, closed, replaceAll: full });
  if (newest) await setCursor(ctx.db, id, SINCE, newest);
  if (full) await setCursor(ctx.db, id, FULL_AT, ctx.now.toISOString());
  // Last: a 304 from now on means "nothing changed since what is applied", which is only true now.
  await commit();
  ctx.log.debug({ full, open: open.length, closed: closed.length }, "issue snapshot refreshed");
}

/**
 * Drops an issue GitHub answered as gone (404 or 410 to a write: deleted or transferred) from the
 * stored snapshot and from this run's memoised listing: the `since` listing never reports deletions,
 * so without this it would stay until the weekly full listing.
 */
export async function forgetIssue(ctx: ScanContext, issueNumber: number): Promise<void> {
  await applyIssueListing(ctx.db, ctx.repository.id, { open: [], closed: [issueNumber], replaceAll: false });
  const pending = ctx.shared.get("openIssues") as Promise<IssueSnapshot[]> | undefined;
  if (pending)
    ctx.shared.set(
      "openIssues",
      pending.then((list) => list.filter((issue) => issue.number !== issueNumber)),
    );
}

/** The ranking signals of an open issue, shared by the stale and labelled-issue scanners. */
export function issueSignals(issue: IssueSnapshot): FindingSignals {
  const { createdAt, updatedAt, labels, reactions, comments, assignees } = issue;
  return { createdAt, updatedAt, labels, reactions, comments, assignees };
}
