import type { IncomingMessage, ServerResponse } from "node:http";
import { exchangeWebFlowCode, getWebFlowAuthorizationUrl } from "@octokit/oauth-methods";
import { Octokit } from "@octokit/rest";
import type { Logger } from "../../util/logger.js";
import { isHttps, redirect, sendHtml } from "../http.js";
import {
  type CookieSealer,
  cookie,
  randomToken,
  readCookies,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  type Session,
  STATE_COOKIE,
} from "./session.js";

/** The App's OAuth client (`GITHUB_CLIENT_ID`/`GITHUB_CLIENT_SECRET`) and where GitHub's API is. */
export interface OAuthOptions {
  clientId: string;
  clientSecret: string;
  /** REST API base URL; the OAuth endpoints are derived from it by @octokit/oauth-methods (github.com for api.github.com, `/api/v3` stripped for GHE). */
  apiBaseUrl: string;
}

/** How long (s) the `state` cookie of one sign-in attempt lives. */
const STATE_TTL_S = 600;

/**
 * GitHub's web application flow (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app#using-the-web-application-flow-to-generate-a-user-access-token):
 * `GET /login` sends the browser to GitHub with a random `state` kept in a sealed cookie;
 * `GET /auth/callback` checks that state, exchanges the code, asks `GET /user` who it is and sets
 * the session cookie. Returns true when it answered the request.
 */
export async function handleOAuth(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: { oauth: OAuthOptions; sealer: CookieSealer; log: Logger },
): Promise<boolean> {
  const { oauth, sealer } = deps;
  const secure = isHttps(req);
  const request = new Octokit({ baseUrl: oauth.apiBaseUrl }).request;
  const callback = `${secure ? "https" : "http"}://${req.headers.host}/auth/callback`;
  if (req.method === "GET" && url.pathname === "/login") {
    const state = randomToken();
    const returnTo = safeReturn(url.searchParams.get("return_to"));
    const { url: authorize } = getWebFlowAuthorizationUrl({
      clientType: "github-app",
      clientId: oauth.clientId,
      redirectUrl: callback,
      state,
      request,
    });
    redirect(res, authorize, { "set-cookie": cookie(STATE_COOKIE, sealer.seal({ state, returnTo }), { maxAgeS: STATE_TTL_S, secure }) });
    return true;
  }
  if (req.method === "GET" && url.pathname === "/auth/callback") {
    const expected = sealer.open<{ state: string; returnTo: string }>(readCookies(req)[STATE_COOKIE]);
    const code = url.searchParams.get("code");
    if (!expected || !code || url.searchParams.get("state") !== expected.state) {
      sendHtml(
        res,
        400,
        `<!doctype html><title>Sign-in failed</title><p>The sign-in link expired or was not started here. <a href="/login">Sign in again</a>.</p>`,
      );
      return true;
    }
    try {
      const { authentication } = await exchangeWebFlowCode({
        clientType: "github-app",
        clientId: oauth.clientId,
        clientSecret: oauth.clientSecret,
        code,
        redirectUrl: callback,
        request,
      });
      const { data: user } = await new Octokit({ auth: authentication.token, baseUrl: oauth.apiBaseUrl }).rest.users.getAuthenticated();
      const session: Session = {
        login: user.login,
        token: authentication.token,
        csrf: randomToken(),
        expiresAt: Date.now() + SESSION_TTL_MS,
      };
      redirect(res, expected.returnTo, {
        "set-cookie": [
          cookie(SESSION_COOKIE, sealer.seal(session), { maxAgeS: SESSION_TTL_MS / 1000, secure }),
          cookie(STATE_COOKIE, "", { maxAgeS: 0, secure }),
        ],
      });
    } catch (error) {
      deps.log.warn({ err: error }, "sign-in with GitHub failed");
      sendHtml(
        res,
        502,
        `<!doctype html><title>Sign-in failed</title><p>GitHub did not accept the sign-in. <a href="/login">Try again</a>.</p>`,
      );
    }
    return true;
  }
  return false;
}

const HERE = "http://backlog-bot.invalid";

/**
 * Only this site's paths may be returned to after sign-in (no open redirect): `value` is resolved
 * as a browser resolves a `Location` (the WHATWG URL parser, which drops tabs and newlines and
 * reads `\` as `/`, so `/\t/evil.example` is `//evil.example`) and kept only when it stays on
 * this origin. The path is returned as that parser serialises it: percent-encoded ASCII, which a
 * response header can carry. Anything else returns to `/`.
 */
export function safeReturn(value: string | null): string {
  if (!value?.startsWith("/")) return "/";
  const url = URL.canParse(value, HERE) ? new URL(value, HERE) : undefined;
  if (url?.origin !== HERE) return "/";
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path.startsWith("//") ? "/" : path;
}

/** The signed-in session of a request, if its cookie opens and has not expired. */
export function readSession(req: IncomingMessage, sealer: CookieSealer): Session | undefined {
  const session = sealer.open<Session>(readCookies(req)[SESSION_COOKIE]);
  return session && typeof session.login === "string" && session.expiresAt > Date.now() ? session : undefined;
}
