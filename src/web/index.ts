import type { IncomingMessage, ServerResponse } from "node:http";
import { sandboxStatus } from "../sandbox/status.js";
import { renderMetrics } from "../util/metrics.js";
import { handleApi, tokenViewer } from "./api/index.js";
import type { Viewer } from "./auth/access.js";
import { handleOAuth, readSession } from "./auth/oauth.js";
import { CookieSealer, cookie, SESSION_COOKIE, safeEqual } from "./auth/session.js";
import type { WebDeps } from "./deps.js";
import { migrationsCheck, runChecks, storeCheck } from "./health.js";
import { isHttps, readBody, redirect, sendHtml, sendJson, sendText, WebError } from "./http.js";
import { handlePage } from "./pages/index.js";
import { signInPage } from "./pages/layout.js";
import { serveEvents } from "./sse.js";
import { LIVE_JS } from "./static.js";

export type { WebDeps } from "./deps.js";
export { publish } from "./events.js";
export { closeEventStreams } from "./sse.js";

/** A node:http-style handler that answers the requests it knows and returns false for the rest. */
export type WebHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const PAGE_PATHS = /^\/(?:$|repos\/[^/]+\/[^/]+$|tasks\/\d+$|outcomes$|audit$)/;

/**
 * The web layer (issue 12) as one handler to mount next to the webhook inbox (Probot's
 * `server.addHandler`, or any node:http server): `/health`, `/ready`, `/metrics`, sign-in with
 * GitHub (`/login`, `/auth/callback`, `POST /logout`), the REST API under `/api/v1` (with
 * `/api/v1/events` for server-sent events), the dashboard pages and `/static/live.js`.
 * Anything else returns false so the next handler (webhooks, Probot's `/ping`) can answer.
 * Never rejects: an unexpected error is logged and answered 500.
 */
export function createWebHandler(deps: WebDeps): WebHandler {
  const sealer = new CookieSealer(deps.sessionSecret);
  const checks = { store: storeCheck(deps.db), migrations: migrationsCheck(deps.db), ...deps.readyChecks };
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const isApi = path === "/api/v1" || path.startsWith("/api/v1/");
    try {
      if (req.method === "GET" && path === "/health") {
        // The process is alive; the sandbox's mode is said here too, so an operator sees `off` at a glance.
        sendJson(res, 200, { status: "ok", sandbox: sandboxStatus() });
        return true;
      }
      if (req.method === "GET" && path === "/ready") {
        const result = await runChecks(checks);
        sendJson(res, result.ready ? 200 : 503, { status: result.ready ? "ready" : "not_ready", checks: result.checks });
        return true;
      }
      if (req.method === "GET" && path === "/metrics" && deps.metrics !== "off") {
        if (deps.metrics !== true && !tokenViewer(req, deps.apiToken))
          throw new WebError(401, "unauthorized", "Send the API token as a bearer token to read /metrics.");
        const { contentType, body } = await renderMetrics();
        sendText(res, 200, body, contentType);
        return true;
      }
      if (req.method === "GET" && path === "/static/live.js") {
        res.writeHead(200, {
          "content-type": "text/javascript; charset=utf-8",
          "cache-control": "public, max-age=300",
          "x-content-type-options": "nosniff",
        });
        res.end(LIVE_JS);
        return true;
      }
      if (deps.oauth && (await handleOAuth(req, res, url, { oauth: deps.oauth, sealer, log: deps.log }))) return true;

      const session = readSession(req, sealer);
      if (req.method === "POST" && path === "/logout") {
        const body = await readBody(req);
        if (!session || !safeEqual(String(body._csrf ?? ""), session.csrf))
          throw new WebError(403, "forbidden", "The sign-out form was not issued by this page.");
        redirect(res, "/", { "set-cookie": cookie(SESSION_COOKIE, "", { maxAgeS: 0, secure: isHttps(req) }) });
        return true;
      }
      const isPage = PAGE_PATHS.test(path);
      if (!isApi && !isPage) return false;

      const viewer: Viewer | undefined =
        tokenViewer(req, deps.apiToken) ?? (session ? { kind: "user", actor: session.login, session } : undefined);
      if (!viewer) {
        if (isApi) throw new WebError(401, "unauthorized", "Sign in with GitHub, or send the API token as a bearer token.");
        sendHtml(res, 401, signInPage(Boolean(deps.oauth), path + url.search));
        return true;
      }
      if (req.method === "GET" && path === "/api/v1/events") {
        const streamViewer = {
          actor: viewer.actor,
          readable: () => deps.access.readable(viewer),
          ...(viewer.kind === "user" && { expiresAt: viewer.session.expiresAt }),
        };
        await serveEvents(req, res, url, streamViewer, deps.db, deps.eventsRecheckMs);
        return true;
      }
      if (isApi) {
        await handleApi(req, res, url, deps, viewer);
        return true;
      }
      return await handlePage(req, res, url, deps, viewer);
    } catch (error) {
      answerError(req, res, error, isApi || path === "/metrics", deps);
      return true;
    }
  };
}

function answerError(req: IncomingMessage, res: ServerResponse, error: unknown, json: boolean, deps: WebDeps): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const known = error instanceof WebError ? error : undefined;
  if (!known) deps.log.error({ err: error, method: req.method, url: req.url }, "web request failed");
  const status = known?.status ?? 500;
  const reason = known?.reason ?? "internal";
  const message = known?.message ?? "Something went wrong on the server; the error is in its log.";
  if (json) sendJson(res, status, { error: { code: reason, message, ...(known?.issues ? { issues: known.issues } : {}) } });
  else
    sendHtml(
      res,
      status,
      `<!doctype html><meta charset="utf-8"><title>${status}</title><p>${message.replace(/[&<>"']/g, "")}</p><p><a href="/">Back to the overview</a></p>`,
    );
}
