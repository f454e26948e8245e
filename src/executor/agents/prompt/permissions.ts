import { RequestError } from "@octokit/request-error";
import type { Octokit } from "@octokit/rest";

/** Permissions that count as write access (`role_name` covers `maintain`, which `permission` reports as `write`). */
const WRITERS = new Set(["admin", "maintain", "write"]);

/** Caches "has write access" per login, for one repository; pass one in to share it across prompts. */
export type PermissionCache = Map<string, Promise<boolean>>;

/**
 * True when `login` has admin, maintain or write permission on the repository, from
 * `GET /repos/{owner}/{repo}/collaborators/{username}/permission`. A 404 (not a collaborator, or
 * an app's bot account) is false. Each login is asked once per cache.
 * @throws the Octokit RequestError of any other failure.
 */
export function canWrite(octokit: Octokit, owner: string, repo: string, login: string, cache: PermissionCache): Promise<boolean> {
  let answer = cache.get(login);
  if (!answer) {
    answer = askPermission(octokit, owner, repo, login);
    cache.set(login, answer);
    // A failed answer is not kept: the next prompt asks again. The caller still sees the rejection.
    answer.catch(() => cache.delete(login));
  }
  return answer;
}

async function askPermission(octokit: Octokit, owner: string, repo: string, login: string): Promise<boolean> {
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
    const role = (data as { role_name?: string }).role_name;
    return WRITERS.has(data.permission) || (role !== undefined && WRITERS.has(role));
  } catch (error) {
    if (error instanceof RequestError && error.status === 404) return false;
    throw error;
  }
}
