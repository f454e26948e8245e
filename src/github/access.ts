import { RequestError } from "@octokit/request-error";
import type { Octokit } from "@octokit/rest";
import type { Probot } from "probot";
import { BacklogBotError } from "../util/errors.js";
import { registerSecret } from "../util/logger.js";

/** The identity the app commits as: `<slug>[bot]` with GitHub's noreply address for that bot user. */
export interface BotIdentity {
  name: string;
  email: string;
}

/**
 * How the executor, scheduler and CLI reach GitHub, independent of how they are authenticated
 * (a GitHub App's installations in the server; a personal token in the CLI).
 */
export interface GitHubAccess {
  /** A client for an installation (`null` for token-based access). */
  octokit(installationId: number | null): Promise<Octokit>;
  /**
   * A token git may use to fetch and push that installation's repositories, valid for at least
   * `TOKEN_MIN_LIFETIME_MS` more. Call it right before the git command that needs it (git's
   * `token` option takes this function). Registered for log redaction.
   */
  token(installationId: number | null): Promise<string>;
  /** Who commits; looked up once, through the installation's client (user lookups need an installation token). */
  botIdentity(installationId: number | null): Promise<BotIdentity>;
}

/**
 * A cached installation token is handed out only while it has this much life left (ms): enough for
 * the longest git command (10 min, src/git/git.ts) with room to spare. Installation tokens live one
 * hour (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-an-installation-access-token-for-a-github-app).
 */
export const TOKEN_MIN_LIFETIME_MS = 15 * 60_000;

/** Options of {@link createAppAccess}. */
export interface AppAccessOptions {
  /**
   * Called when GitHub refuses an installation's token because the installation is suspended (an
   * `installation.suspend` event missed or not yet handled), before the refused call's error is
   * rethrown; normally records the suspension in the store. Its own failure is swallowed.
   */
  onSuspended?: (installationId: number) => Promise<unknown> | unknown;
}

/**
 * Whether `error` is GitHub refusing an installation token because the installation is suspended:
 * 403 with "This installation has been suspended" (`POST /app/installations/{id}/access_tokens`,
 * https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app;
 * https://docs.github.com/en/apps/maintaining-github-apps/suspending-a-github-app-installation).
 */
export function isSuspendedError(error: unknown): boolean {
  return error instanceof RequestError && error.status === 403 && /installation has been suspended/i.test(error.message);
}

/**
 * Access through a GitHub App: installation clients from Probot; installation tokens minted with
 * `POST /app/installations/{id}/access_tokens` through the app's own client, so they come from the
 * same API base as every other call (GitHub Enterprise's `<GHE_HOST>/api/v3` too: minting through
 * an installation client's auth strategy went to api.github.com there). The bot's identity is `GET /app` then
 * `GET /users/{slug}[bot]` (https://docs.github.com/en/apps/creating-github-apps/about-creating-github-apps/about-creating-github-apps#about-github-apps-and-bot-accounts).
 * A token refused as suspended (`isSuspendedError`), by either way of minting, is told to
 * `options.onSuspended`; the error is thrown on unchanged.
 */
export function createAppAccess(probot: Probot, options: AppAccessOptions = {}): GitHubAccess {
  let identity: Promise<BotIdentity> | undefined;
  const tokens = new Map<number, { token: string; expiresAt: number }>();
  /** Tells `onSuspended` of a refusal as suspended, then rethrows the error as it was. */
  // The client's token request runs through the same hooks as the request it authenticates: one error, seen twice.
  const noticed = new WeakSet<object>();
  const noticeSuspended = async (installationId: number, error: unknown): Promise<never> => {
    if (isSuspendedError(error) && !noticed.has(error as object)) {
      noticed.add(error as object);
      tokens.delete(installationId);
      await Promise.resolve(options.onSuspended?.(installationId)).catch(() => undefined);
    }
    throw error;
  };
  return {
    async octokit(installationId) {
      const octokit = (await probot.auth(installationId ?? undefined)) as unknown as Octokit;
      // Probot's installation client mints its token inside its first request: a refusal as
      // suspended surfaces as that request's error. `probot.auth` builds a new client each call.
      if (installationId != null) octokit.hook.error("request", (error) => noticeSuspended(installationId, error));
      return octokit;
    },
    async token(installationId) {
      if (installationId == null) throw new BacklogBotError("INVALID_SETTINGS", "a GitHub App needs an installation id to mint a token");
      const cached = tokens.get(installationId);
      if (cached && cached.expiresAt - Date.now() > TOKEN_MIN_LIFETIME_MS) return cached.token;
      const app = await probot.auth();
      const { data } = await app
        .request("POST /app/installations/{installation_id}/access_tokens", { installation_id: installationId })
        .catch((error: unknown) => noticeSuspended(installationId, error));
      registerSecret(data.token);
      tokens.set(installationId, { token: data.token, expiresAt: Date.parse(data.expires_at) || Date.now() + 60 * 60_000 });
      return data.token;
    },
    botIdentity(installationId) {
      identity ??= (async () => {
        const { data: app } = await (await probot.auth()).rest.apps.getAuthenticated();
        const login = `${app?.slug ?? "backlog-bot"}[bot]`;
        const installation = await probot.auth(installationId ?? undefined);
        const { data: user } = await installation.rest.users.getByUsername({ username: login });
        return { name: login, email: `${user.id}+${login}@users.noreply.github.com` };
      })();
      identity.catch(() => {
        identity = undefined; // a failed lookup is retried next time, not cached
      });
      return identity;
    },
  };
}
