import { randomBytes } from "node:crypto";
import { getPrivateKey } from "@probot/get-private-key";
import { BacklogBotError } from "../util/errors.js";
import { registerSecret } from "../util/logger.js";
import { loadSettings, type Settings } from "./env.js";

/** Everything a server process reads from its environment, read once. */
export interface Environment {
  settings: Settings;
  /** The GitHub App's credentials; undefined when APP_ID is not set (first start: the setup flow). */
  app?: { appId: number; privateKey: string; webhookSecret: string };
  /** GitHub's REST API base URL: `https://api.github.com`, or `<GHE_PROTOCOL>://<GHE_HOST>/api/v3`. */
  apiBaseUrl: string;
  host: string;
  port: number;
  logLevel: string;
  /** The App's OAuth client, for sign-in to the web dashboard (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET). */
  oauth?: { clientId: string; clientSecret: string };
  /** The operator's API token (BACKLOG_BOT_API_TOKEN), for automation. */
  apiToken?: string;
  /** Key of the web session cookie (BACKLOG_BOT_SESSION_SECRET); random per start when unset (sessions then end at restart). */
  sessionSecret: string;
  /** `/metrics` readable without the API token (BACKLOG_BOT_METRICS_PUBLIC=1, for a Prometheus on a private network). */
  publicMetrics: boolean;
  /** Which parts of the server run here: `web` takes webhooks and serves pages; `worker` runs jobs. */
  role: "web" | "worker" | "all";
}

/** Variables holding secrets: read once, then removed from `process.env` so no child or dump inherits them. */
const SECRET_VARIABLES = [
  "PRIVATE_KEY",
  "PRIVATE_KEY_PATH",
  "WEBHOOK_SECRET",
  "GITHUB_CLIENT_SECRET",
  "BACKLOG_BOT_API_TOKEN",
  "BACKLOG_BOT_SESSION_SECRET",
] as const;

/**
 * `text` as a server role (`--role`, `BACKLOG_BOT_ROLE`).
 * @throws BacklogBotError `INVALID_SETTINGS` unless it is `web`, `worker` or `all`.
 */
export function serverRole(text: string): Environment["role"] {
  if (text !== "web" && text !== "worker" && text !== "all") {
    throw new BacklogBotError("INVALID_SETTINGS", `--role must be web, worker or all, not "${text}"`);
  }
  return text;
}

/**
 * The one place the server reads its environment: Probot's standard variables (APP_ID, PRIVATE_KEY
 * or PRIVATE_KEY_PATH, WEBHOOK_SECRET, HOST, PORT, GHE_HOST, GHE_PROTOCOL, LOG_LEVEL) and
 * backlog-bot's own (config/env.ts). Secrets are registered for log redaction and deleted from
 * `env` (when it is `process.env`), so they cannot reach a child process or a `/proc/<pid>/environ` read.
 * @throws BacklogBotError `INVALID_SETTINGS` for a bad value, or when APP_ID is set without a private key or webhook secret.
 */
export function loadEnvironment(env: NodeJS.ProcessEnv = process.env, options: { role?: string } = {}): Environment {
  const settings = loadSettings(env);
  const role = serverRole(options.role ?? env.BACKLOG_BOT_ROLE ?? "all");
  const apiBaseUrl = env.GHE_HOST ? `${env.GHE_PROTOCOL || "https"}://${env.GHE_HOST}/api/v3` : "https://api.github.com";
  let app: Environment["app"];
  if (env.APP_ID) {
    const appId = Number(env.APP_ID);
    const privateKey = getPrivateKey({ env }) ?? undefined;
    const webhookSecret = env.WEBHOOK_SECRET;
    if (!Number.isInteger(appId) || appId <= 0 || !privateKey || !webhookSecret) {
      throw new BacklogBotError(
        "INVALID_SETTINGS",
        "APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET must all be set: see the README, 'Register the GitHub App'.",
      );
    }
    registerSecret(webhookSecret);
    for (const line of privateKey.split("\n")) if (line.length > 20 && !line.startsWith("-----")) registerSecret(line);
    app = { appId, privateKey, webhookSecret };
  }
  const oauth =
    env.GITHUB_CLIENT_ID && env.GITHUB_CLIENT_SECRET
      ? { clientId: env.GITHUB_CLIENT_ID, clientSecret: env.GITHUB_CLIENT_SECRET }
      : undefined;
  const apiToken = env.BACKLOG_BOT_API_TOKEN || undefined;
  registerSecret(oauth?.clientSecret);
  registerSecret(env.BACKLOG_BOT_SESSION_SECRET);
  registerSecret(apiToken);
  if (env === process.env) for (const name of SECRET_VARIABLES) delete process.env[name];
  return {
    settings,
    ...(app && { app }),
    ...(oauth && { oauth }),
    ...(apiToken && { apiToken }),
    apiBaseUrl,
    host: env.HOST ?? "localhost",
    port: Number(env.PORT) || 3000,
    logLevel: env.LOG_LEVEL ?? "info",
    role,
    sessionSecret: env.BACKLOG_BOT_SESSION_SECRET || randomBytes(32).toString("hex"),
    publicMetrics: env.BACKLOG_BOT_METRICS_PUBLIC === "1",
  };
}
