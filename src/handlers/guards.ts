import { RequestError } from "@octokit/request-error";
import type { Octokit } from "@octokit/rest";

/** Repository roles that may start, retry, cancel or dismiss agent work. */
const WRITE_ROLES = new Set(["admin", "maintain", "write"]);

/** The outcome of the permission check; `role` is what GitHub reported, for the refusal message. */
export type Permission = { allowed: true; role: string } | { allowed: false; role: string; reason: string };

/**
 * Whether bot account `login` is named in `allowedBots`: case-insensitively (GitHub logins are),
 * and with or without the `[bot]` suffix GitHub gives apps' accounts (`renovate` and
 * `Renovate[bot]` both name `renovate[bot]`).
 */
export function isAllowedBot(login: string, allowedBots: readonly string[]): boolean {
  const bare = (name: string) => name.toLowerCase().replace(/\[bot\]$/, "");
  return allowedBots.some((name) => bare(name) === bare(login));
}

/**
 * Decides whether `login` may make the app act on this repository: a person with write, maintain or
 * admin permission (GET /repos/{owner}/{repo}/collaborators/{username}/permission,
 * https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user).
 * GitHub answers 404 for someone who is not a collaborator at all: that is a refusal, not an error.
 * Bots are refused unless named in `allowedBots` (`isAllowedBot`); one named there is allowed as the
 * repository's writers chose (the config is theirs), without the permission call, to which GitHub
 * answers 404 for an app's account.
 * @throws the Octokit RequestError for any other failure (the delivery's job retries).
 */
export async function checkWritePermission(
  octokit: Octokit,
  repo: { owner: string; repo: string },
  login: string,
  userType: string,
  allowedBots: readonly string[] = [],
): Promise<Permission> {
  if (userType === "Bot") {
    if (isAllowedBot(login, allowedBots)) return { allowed: true, role: "allowed bot" };
    return { allowed: false, role: "bot", reason: "bots cannot trigger agent work unless listed in `allowedBots`" };
  }
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: login });
    // `role_name` knows maintain/triage; `permission` folds them into write/read.
    const role = (data as { role_name?: string }).role_name ?? data.permission;
    if (WRITE_ROLES.has(role) || WRITE_ROLES.has(data.permission)) return { allowed: true, role };
    return { allowed: false, role, reason: `@${login} has ${role} permission` };
  } catch (error) {
    if (error instanceof RequestError && error.status === 404) {
      return { allowed: false, role: "none", reason: `@${login} is not a collaborator` };
    }
    throw error;
  }
}
