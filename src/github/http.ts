import type { Octokit } from "@octokit/core";
import type { Db } from "../store/db.js";
import { getCachedResponse, putCachedResponse } from "../store/http-cache.js";

/** The part of an Octokit client the scanners use: Probot's context.octokit and `GitHubAccess.octokit()` both fit. */
export type Api = Pick<Octokit, "request">;

/** GitHub's most items per page for list endpoints (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api). */
export const PER_PAGE = 100;

/**
 * Requests one scan may make, counted by the scan itself (throttling and retry in ProbotOctokit pace
 * them; this caps them). `used` counts every request sent, `notModified` those answered 304.
 */
export class RequestBudget {
  used = 0;
  notModified = 0;
  constructor(readonly limit: number) {}
  /** Requests still allowed: a caller about to make writes that belong together checks this first. */
  get remaining(): number {
    return Math.max(0, this.limit - this.used);
  }
  /** @throws BudgetExhaustedError when the next request would exceed `limit`. */
  spend(what: string): void {
    if (this.used >= this.limit)
      throw new BudgetExhaustedError(`request budget of ${this.limit} spent before ${what}; the rest waits for the next scan`);
    this.used++;
  }
}

/** A scan ran out of its request budget; what it did so far stands, the rest waits for the next run. */
export class BudgetExhaustedError extends Error {
  override name = "BudgetExhaustedError";
}

/** An answer to a conditional request: `data` is the fresh body (200) or the stored one (304, when kept). */
export interface ConditionalResponse<T> {
  status: 200 | 304;
  data: T | undefined;
  headers: Record<string, string | number | undefined>;
  /**
   * Stores the 200's validators, so later requests may be answered 304. Without `keepBody` the caller
   * calls it once it has applied the whole answer (every page of a listing, every item recorded);
   * with `keepBody` they were stored already. A no-op on a 304 or when GitHub sent no validator.
   */
  commit(): Promise<void>;
}

/** What `conditionalGet` asks and how it caches. */
export interface ConditionalGetOptions {
  route: string;
  params: Record<string, unknown>;
  /** Who asks (`installation:<id>`, `token:<hash>`): ETags are specific to the credentials. */
  cacheScope: string;
  /**
   * Stable name of the cache row instead of the URL, for a request whose URL moves on every change
   * (the issue listing's `since`): one row per repository instead of one per cursor value.
   */
  cacheKey?: string;
  /**
   * Keep the body to replay it on a later 304 (the config file). Then the validators are stored at
   * once: a 304 hands the body back and the caller redoes its work from it. Without it a 304 only
   * says "nothing new since what you applied", so the validators wait for the caller's `commit()`.
   */
  keepBody?: boolean;
  budget?: RequestBudget;
}

/**
 * `GET route` with `If-None-Match` (and `If-Modified-Since` when GitHub sent a `Last-Modified`)
 * from the stored validators, storing the new ones. A 304 answer costs no rate limit
 * (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate).
 * GitHub's ETags are specific to the token (github/docs#34689), and installation tokens last an hour,
 * so callers must stay cheap on a 200 too: the issue listing asks only for what changed `since`.
 *
 * Without `keepBody` nothing is stored until the caller calls `commit()` on the answer: storing the
 * ETag of a 200 whose processing then failed (page 2 of a listing answering 5xx, a recording step
 * throwing, the request budget running out) would make every later request of that URL a body-less
 * 304, and what the failed run did not apply would stay unapplied until the resource changed again.
 * @throws the Octokit RequestError for any status other than 2xx and 304.
 */
export async function conditionalGet<T>(api: Api, db: Db, options: ConditionalGetOptions): Promise<ConditionalResponse<T>> {
  const { url } = api.request.endpoint(options.route, options.params);
  const key = `${options.cacheScope} GET ${options.cacheKey ?? url}`;
  const cached = await getCachedResponse(db, key);
  const usable = cached && (!options.keepBody || cached.body !== undefined) ? cached : undefined;
  const headers: Record<string, string> = {};
  if (usable?.etag) headers["if-none-match"] = usable.etag;
  if (usable?.lastModified) headers["if-modified-since"] = usable.lastModified;
  options.budget?.spend(url);
  try {
    const response = await api.request(options.route, { ...options.params, headers });
    const etag = typeof response.headers.etag === "string" ? response.headers.etag : null;
    const lastModified = typeof response.headers["last-modified"] === "string" ? response.headers["last-modified"] : null;
    const save = async () => {
      if (etag || lastModified)
        await putCachedResponse(db, key, { etag, lastModified, body: options.keepBody ? response.data : undefined });
    };
    if (options.keepBody) await save();
    return {
      status: 200,
      data: response.data as T,
      headers: response.headers as ConditionalResponse<T>["headers"],
      commit: options.keepBody ? async () => {} : save,
    };
  } catch (error) {
    if ((error as { status?: number }).status !== 304) throw error;
    if (options.budget) options.budget.notModified++;
    const headers304 = ((error as { response?: { headers?: ConditionalResponse<T>["headers"] } }).response?.headers ??
      {}) as ConditionalResponse<T>["headers"];
    return { status: 304, data: usable?.body as T | undefined, headers: headers304, commit: async () => {} };
  }
}

/** Whether a `Link` header names a next page. */
export function hasNextPage(headers: Record<string, unknown>): boolean {
  const link = headers.link;
  return typeof link === "string" && /rel="next"/.test(link);
}
