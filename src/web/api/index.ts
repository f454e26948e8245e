import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { recordAudit } from "../../store/audit.js";
import type { Repository } from "../../store/schema.js";
import type { Viewer } from "../auth/access.js";
import { safeEqual } from "../auth/session.js";
import type { WebDeps } from "../deps.js";
import { readBody, redirect, sendJson, WebError, wantsHtml } from "../http.js";
import { readableIds } from "../queries.js";
import { type ApiContext, type ApiRoute, compilePath } from "./route.js";
import { routes } from "./routes.js";

const compiled = routes.map((r) => ({ route: r, match: compilePath(r.path) }));

/** Validates one part of the request; a failure is a 400 listing each field path (`query.limit`). */
function parsePart<S extends z.ZodObject>(schema: S | undefined, value: unknown, where: string): z.output<S> | Record<string, never> {
  if (!schema) return {};
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join("."), message: i.message }));
  throw new WebError(400, "invalid_request", `Invalid ${issues.map((i) => i.path).join(", ")}.`, issues);
}

/**
 * Answers `/api/v1/*` for a known viewer: finds the route (404/405 otherwise), checks CSRF on
 * cookie-authenticated writes, validates params, query and body, runs the handler and writes JSON.
 * A browser form post is answered with a redirect to the task (or back) instead of JSON.
 */
export async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, deps: WebDeps, viewer: Viewer): Promise<void> {
  const method = req.method ?? "GET";
  let matched: { route: ApiRoute; params: Record<string, string> } | undefined;
  let pathKnown = false;
  for (const { route, match } of compiled) {
    const params = match(url.pathname);
    if (!params) continue;
    pathKnown = true;
    if (route.method === method) {
      matched = { route, params };
      break;
    }
  }
  if (!matched) {
    throw pathKnown
      ? new WebError(405, "method_not_allowed", `${method} is not allowed here.`)
      : new WebError(404, "not_found", "No such API route.");
  }
  const { route, params } = matched;
  const raw = route.method === "POST" ? await readBody(req) : {};
  if (route.method === "POST" && viewer.kind === "user") {
    const token = String(req.headers["x-csrf-token"] ?? raw._csrf ?? "");
    if (!token || !safeEqual(token, viewer.session.csrf)) {
      await audit(deps, viewer, route, "refused", { reason: "csrf" });
      throw new WebError(403, "forbidden", "The form was not issued by this page (CSRF check failed). Reload the page and try again.");
    }
  }
  delete raw._csrf;
  let writeRepo: string | undefined;
  const readable = await deps.access.readable(viewer);
  const ctx: ApiContext = {
    deps,
    req,
    res,
    viewer,
    readable,
    scope: await readableIds(deps.db, readable),
    params: parsePart(route.params, params, "params"),
    query: parsePart(route.query, Object.fromEntries(url.searchParams), "query"),
    body: parsePart(route.body, raw, "body"),
    now: deps.now?.() ?? new Date(),
    async requireWrite(repo: Repository) {
      writeRepo = repo.full_name;
      if (await deps.access.canWrite(viewer, repo)) return;
      await audit(deps, viewer, route, "refused", { reason: "no write access" }, repo.full_name, url.pathname);
      throw new WebError(403, "forbidden", `@${viewer.actor} needs write, maintain or admin permission on ${repo.full_name} to do this.`);
    },
  };
  let body: unknown;
  try {
    body = await route.handle(ctx);
  } catch (error) {
    if (route.method === "POST" && error instanceof WebError && error.status === 409) {
      await audit(deps, viewer, route, "refused", { reason: error.message }, writeRepo, url.pathname);
    }
    throw error;
  }
  if (route.method === "POST") {
    await audit(deps, viewer, route, "ok", body, writeRepo, url.pathname);
    if (wantsHtml(req)) {
      const taskId = (body as { taskId?: number }).taskId;
      redirect(res, taskId ? `/tasks/${taskId}` : sameSitePath(req));
      return;
    }
  }
  sendJson(res, route.status ?? 200, body);
}

/** The path of the page that posted the form when it is this site's (else `/`): no open redirect. */
function sameSitePath(req: IncomingMessage): string {
  try {
    const referer = new URL(req.headers.referer ?? "");
    return referer.host === req.headers.host ? referer.pathname : "/";
  } catch {
    return "/";
  }
}

/** One audit row per accepted or refused write through the web layer (`web.startTask`, `api.cancelTask`...). */
async function audit(
  deps: WebDeps,
  viewer: Viewer,
  route: ApiRoute,
  outcome: string,
  detail: unknown,
  repository?: string,
  target?: string,
): Promise<void> {
  try {
    await recordAudit(deps.db, {
      actor: viewer.actor,
      action: `${viewer.kind === "user" ? "web" : "api"}.${route.operationId}`,
      repository: repository ?? null,
      target: target ?? null,
      outcome,
      detail,
    });
  } catch (error) {
    deps.log.warn({ err: error }, "could not write the audit row");
  }
}

/** The viewer of an API request: the operator's bearer token (constant-time compare) or undefined. */
export function tokenViewer(req: IncomingMessage, apiToken: string | undefined): Viewer | undefined {
  const header = req.headers.authorization ?? "";
  const m = /^(?:Bearer|token)\s+(\S+)$/i.exec(header);
  if (!apiToken || !m?.[1]) return undefined;
  return safeEqual(m[1], apiToken) ? { kind: "operator", actor: "api-token" } : undefined;
}
