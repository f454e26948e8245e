import type { Api } from "../github/http.js";
import { CONFIG_PATH } from "./parse.js";

/** Name of the check run that reports on `.github/backlog-bot.yml`. */
export const CONFIG_CHECK_NAME = "backlog-bot config";

/**
 * Posts a completed check run on the commit that changed the config: `failure` with the error (the
 * path of each offending key), or `success` when the file is valid again. Needs the app's
 * `checks: write` permission (https://docs.github.com/en/rest/checks/runs#create-a-check-run).
 */
export async function reportConfigCheck(
  api: Api,
  target: { owner: string; repo: string; headSha: string },
  error: string | null,
): Promise<void> {
  await api.request("POST /repos/{owner}/{repo}/check-runs", {
    owner: target.owner,
    repo: target.repo,
    name: CONFIG_CHECK_NAME,
    head_sha: target.headSha,
    status: "completed",
    conclusion: error ? "failure" : "success",
    output: error
      ? {
          title: `${CONFIG_PATH} is invalid`,
          summary: `The last valid configuration (or the defaults) stays in force until this is fixed.\n\n\`\`\`\n${error.slice(0, 60_000)}\n\`\`\``,
        }
      : { title: `${CONFIG_PATH} is valid`, summary: "The new configuration is in force." },
  });
}
