import type { Server } from "probot";
import { run } from "probot";
import type { Logger } from "../util/logger.js";

/** Writes the new app's credentials (`APP_ID`, `PRIVATE_KEY`, `WEBHOOK_SECRET`, `GITHUB_CLIENT_ID`, ...) to `.env`; Probot's own by default. */
export type UpdateEnv = NonNullable<RunOptions["updateEnv"]>;
type RunOptions = NonNullable<Parameters<typeof run>[1]>;

/**
 * First start without `APP_ID`: serves Probot's manifest setup flow instead of exiting, as `probot
 * run` does (node_modules/probot/lib/apps/setup.js). `GET /` redirects to `/probot`, which posts
 * the manifest built from `app.yml` in the working directory to GitHub; GitHub's redirect to
 * `/probot/setup?code=` is exchanged for the new app's id, key, webhook secret and OAuth client,
 * which `updateEnv` writes to `.env`; `/probot/import` takes them by hand. Restart afterwards.
 * Probot refuses setup mode when `NODE_ENV=production` (it throws: the app must be configured).
 * A smee.io channel is not created unless `WEBHOOK_PROXY_URL` is set (no call to an outside
 * service behind the operator's back).
 *
 * @param env - `HOST`, `PORT`, `GHE_HOST`, `WEBHOOK_PROXY_URL`, `LOG_LEVEL` as for the server.
 * @throws Error in production, or when the port is taken.
 */
export async function startSetupServer(env: NodeJS.ProcessEnv, options: { log: Logger; updateEnv?: UpdateEnv }): Promise<Server> {
  // Probot reads these two from process.env itself, not from `env`.
  if (!process.env.WEBHOOK_PROXY_URL && !process.env.NO_SMEE_SETUP) process.env.NO_SMEE_SETUP = "true";
  const { APP_ID: _appId, PRIVATE_KEY: _key, PRIVATE_KEY_PATH: _keyPath, ...rest } = env;
  return run(() => {}, {
    env: rest as RunOptions["env"],
    log: options.log,
    ...(options.updateEnv && { updateEnv: options.updateEnv }),
  });
}
