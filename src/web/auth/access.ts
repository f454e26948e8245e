import { Octokit } from "@octokit/rest";
import type { Db } from "../../store/db.js";
import type { Repository } from "../../store/schema.js";
import type { Session } from "./session.js";

/** Who is asking: the operator's API token (sees and may do everything) or a person signed in with GitHub. */
export type Viewer = { kind: "operator"; actor: "api-token" } | { kind: "user"; actor: string; session: Session };

/** Roles that may start, retry, cancel or dismiss work: the same set as `/agent fix` (src/handlers/guards.ts). */
const WRITE_ROLES = new Set(["admin", "maintain", "write"]);

/** Decides what a viewer may see and do; mirrors GitHub's permissions through this installation. */
export interface RepoAccess {
  /** Full names the viewer may read; `"all"` for the operator. */
  readable(viewer: Viewer): Promise<Set<string> | "all">;
  /** Whether the viewer may act on `repo` (write, maintain or admin for a person). */
  canWrite(viewer: Viewer, repo: Repository): Promise<boolean>;
}

/** What `createGitHubRepoAccess` needs. */
export interface GitHubRepoAccessOptions {
  db: Db;
  /** REST API base URL (`https://api.github.com`, GHE `https://host/api/v3`, a stub in tests). */
  apiBaseUrl: string;
  /** The app's installation client, for the collaborator-permission lookup (as `/agent fix` does). */
  installationOctokit(installationId: number): Promise<Pick<Octokit, "rest">>;
  /** How long (ms) one person's readable set is reused; default 60 s, so a revoked access ends within a minute. */
  cacheMs?: number;
}

/**
 * Access from GitHub itself. Read: the repositories GitHub lists for the person's own token under
 * each installation that has a repository in the store (`GET /user/installations/{id}/repositories`,
 * https://docs.github.com/en/rest/apps/installations#list-repositories-accessible-to-the-user-access-token),
 * which is exactly "read access through this installation". Write: the installation asks GitHub for
 * the person's permission on the repository (`GET /repos/{o}/{r}/collaborators/{user}/permission`),
 * the check `/agent fix` makes. Repositories without an installation (CLI scans of local paths) are
 * visible to the operator only. A GitHub failure denies (fail closed).
 */
export function createGitHubRepoAccess(options: GitHubRepoAccessOptions): RepoAccess {
  const cacheMs = options.cacheMs ?? 60_000;
  const cache = new Map<string, { at: number; names: Set<string> }>();
  return {
    async readable(viewer) {
      if (viewer.kind === "operator") return "all";
      const key = `${viewer.actor}\0${viewer.session.token}`;
      const hit = cache.get(key);
      if (hit && Date.now() - hit.at < cacheMs) return hit.names;
      const octokit = new Octokit({ auth: viewer.session.token, baseUrl: options.apiBaseUrl, request: { retries: 0 } });
      const installs = await options.db
        .selectFrom("repositories")
        .select("installation_id")
        .distinct()
        .where("installation_id", "is not", null)
        .execute();
      const names = new Set<string>();
      for (const { installation_id } of installs) {
        try {
          const repos = await octokit.paginate("GET /user/installations/{installation_id}/repositories", {
            installation_id: Number(installation_id),
            per_page: 100,
          });
          for (const repo of repos as Array<{ full_name: string }>) names.add(repo.full_name);
        } catch {
          // 403/404: this person cannot see that installation; other installations still count
        }
      }
      if (cache.size > 1000) cache.clear();
      cache.set(key, { at: Date.now(), names });
      return names;
    },
    async canWrite(viewer, repo) {
      if (viewer.kind === "operator") return true;
      if (repo.installation_id == null) return false;
      const [owner = "", name = ""] = repo.full_name.split("/");
      try {
        const octokit = await options.installationOctokit(Number(repo.installation_id));
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo: name, username: viewer.actor });
        const role = (data as { role_name?: string }).role_name ?? data.permission;
        return WRITE_ROLES.has(role) || WRITE_ROLES.has(data.permission);
      } catch {
        return false;
      }
    },
  };
}

/** Whether `viewer` may read `fullName` given what `readable` returned. */
export function canRead(readable: Set<string> | "all", fullName: string): boolean {
  return readable === "all" || readable.has(fullName);
}
