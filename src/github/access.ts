import type { Octokit } from "@octokit/rest";
import type { Probot } from "probot";
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
  /** A token git may use to fetch and push that installation's repositories. Registered for log redaction. */
  token(installationId: number | null): Promise<string>;
  /** Who commits; looked up once, through the installation's client (user lookups need an installation token). */
  botIdentity(installationId: number | null): Promise<BotIdentity>;
}

/**
 * Access through a GitHub App: installation clients and tokens from Probot (which caches tokens
 * until shortly before their one-hour expiry). The bot's identity is `GET /app` then
 * `GET /users/{slug}[bot]` (https://docs.github.com/en/apps/creating-github-apps/about-creating-github-apps/about-creating-github-apps#about-github-apps-and-bot-accounts).
 */
export function createAppAccess(probot: Probot): GitHubAccess {
  let identity: Promise<BotIdentity> | undefined;
  return {
    octokit: async (installationId) => (await probot.auth(installationId ?? undefined)) as unknown as Octokit,
    async token(installationId) {
      if (installationId == null) throw new Error("a GitHub App needs an installation id to mint a token");
      const octokit = await probot.auth(installationId);
      const { token } = (await octokit.auth({ type: "installation" })) as { token: string };
      registerSecret(token);
      return token;
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
