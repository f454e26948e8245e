import type { Context } from "probot";

/** Repository roles that may start, retry or cancel agent work. */
const WRITE_ROLES = new Set(["admin", "maintain", "write"]);

/** The outcome of the permission check; `role` is what GitHub reported, for the refusal message. */
export type Permission = { allowed: true; role: string } | { allowed: false; role: string; reason: string };

/**
 * Decides whether `login` may make the app act on this repository: a person with write, maintain or
 * admin permission (GET /repos/{owner}/{repo}/collaborators/{username}/permission,
 * https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user).
 * Bots are refused unless named in `allowedBots`.
 * @throws the Octokit RequestError when GitHub cannot answer (the delivery then fails and can be redelivered).
 */
export async function checkWritePermission(
  context: Context<"issue_comment.created">,
  login: string,
  userType: string,
  allowedBots: readonly string[] = [],
): Promise<Permission> {
  if (userType === "Bot" && !allowedBots.includes(login)) {
    return { allowed: false, role: "bot", reason: "bots cannot trigger agent work" };
  }
  const { owner, repo } = context.repo();
  const { data } = await context.octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
  // `role_name` knows maintain/triage; `permission` folds them into write/read.
  const role = (data as { role_name?: string }).role_name ?? data.permission;
  if (WRITE_ROLES.has(role) || WRITE_ROLES.has(data.permission)) return { allowed: true, role };
  return { allowed: false, role, reason: `@${login} has ${role} permission` };
}
