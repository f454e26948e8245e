import type { Db } from "../store/db.js";
import type { FindingRow, Repository, Run, Task, TaskState } from "../store/schema.js";

export { type BacklogRow, backlogPage } from "./backlog-query.js";

/**
 * The read model of the API, the pages and the CLI: plain queries over the store, each limited to
 * the repositories a viewer may read (`ids` from `readableIds`; `"all"` for the operator).
 */
export type RepoScope = number[] | "all";

/** Ids of the stored repositories among `readable` full names. */
export async function readableIds(db: Db, readable: Set<string> | "all"): Promise<RepoScope> {
  if (readable === "all") return "all";
  if (readable.size === 0) return [];
  const rows = await db
    .selectFrom("repositories")
    .select("id")
    .where("full_name", "in", [...readable])
    .execute();
  return rows.map((r) => r.id);
}

const inScope = (scope: RepoScope, id: number): boolean => scope === "all" || scope.includes(id);

/** A repository with its open work counted. */
export interface RepositorySummary {
  id: number;
  fullName: string;
  defaultBranch: string;
  installationId: number | null;
  configError: string | null;
  openFindings: number;
  openTasks: number;
}

export async function listRepositorySummaries(db: Db, scope: RepoScope): Promise<RepositorySummary[]> {
  if (scope !== "all" && scope.length === 0) return [];
  let q = db.selectFrom("repositories").selectAll().orderBy("full_name");
  if (scope !== "all") q = q.where("id", "in", scope);
  const repos = await q.execute();
  const findings = await db
    .selectFrom("findings")
    .select(["repository_id", db.fn.countAll<number>().as("n")])
    .where("resolved_at", "is", null)
    .where("dismissed_at", "is", null)
    .groupBy("repository_id")
    .execute();
  const tasks = await db
    .selectFrom("tasks")
    .select(["repository_id", db.fn.countAll<number>().as("n")])
    .where("state", "in", ["queued", "running", "pr_open"])
    .groupBy("repository_id")
    .execute();
  const f = new Map(findings.map((r) => [r.repository_id, Number(r.n)]));
  const t = new Map(tasks.map((r) => [r.repository_id, Number(r.n)]));
  return repos.map((r) => ({
    id: r.id,
    fullName: r.full_name,
    defaultBranch: r.default_branch,
    installationId: r.installation_id == null ? null : Number(r.installation_id),
    configError: r.config_error,
    openFindings: f.get(r.id) ?? 0,
    openTasks: t.get(r.id) ?? 0,
  }));
}

export async function findRepository(db: Db, fullName: string, scope: RepoScope): Promise<Repository | undefined> {
  const repo = await db.selectFrom("repositories").selectAll().where("full_name", "=", fullName).executeTakeFirst();
  return repo && inScope(scope, repo.id) ? repo : undefined;
}

export type FindingState = "open" | "dismissed" | "resolved" | "all";

/** Findings of a repository by id, newest first, keyset-paged by id. */
export async function listFindingsPage(
  db: Db,
  repositoryId: number,
  options: { state: FindingState; kind?: string; before?: number; limit: number },
): Promise<FindingRow[]> {
  let q = db
    .selectFrom("findings")
    .selectAll()
    .where("repository_id", "=", repositoryId)
    .orderBy("id", "desc")
    .limit(options.limit + 1);
  if (options.state === "open") q = q.where("resolved_at", "is", null).where("dismissed_at", "is", null);
  if (options.state === "dismissed") q = q.where("dismissed_at", "is not", null);
  if (options.state === "resolved") q = q.where("resolved_at", "is not", null);
  if (options.kind) q = q.where("kind", "=", options.kind as FindingRow["kind"]);
  if (options.before !== undefined) q = q.where("id", "<", options.before);
  return q.execute();
}

export async function getFindingInScope(db: Db, id: number, scope: RepoScope): Promise<(FindingRow & { repository: string }) | undefined> {
  const row = await db
    .selectFrom("findings")
    .innerJoin("repositories", "repositories.id", "findings.repository_id")
    .selectAll("findings")
    .select("repositories.full_name as repository")
    .where("findings.id", "=", id)
    .executeTakeFirst();
  return row && inScope(scope, row.repository_id) ? row : undefined;
}

export type TaskWithRepo = Task & { repository: string };

/** Tasks newest first, keyset-paged by id, optionally one repository and one state. */
export async function listTasksPage(
  db: Db,
  scope: RepoScope,
  options: { repositoryId?: number; state?: TaskState; before?: number; limit: number },
): Promise<TaskWithRepo[]> {
  if (scope !== "all" && scope.length === 0) return [];
  let q = db
    .selectFrom("tasks")
    .innerJoin("repositories", "repositories.id", "tasks.repository_id")
    .selectAll("tasks")
    .select("repositories.full_name as repository")
    .orderBy("tasks.id", "desc")
    .limit(options.limit + 1);
  if (scope !== "all") q = q.where("tasks.repository_id", "in", scope);
  if (options.repositoryId !== undefined) q = q.where("tasks.repository_id", "=", options.repositoryId);
  if (options.state) q = q.where("tasks.state", "=", options.state);
  if (options.before !== undefined) q = q.where("tasks.id", "<", options.before);
  return q.execute();
}

export async function getTaskInScope(db: Db, id: number, scope: RepoScope): Promise<{ task: TaskWithRepo; runs: Run[] } | undefined> {
  const task = await db
    .selectFrom("tasks")
    .innerJoin("repositories", "repositories.id", "tasks.repository_id")
    .selectAll("tasks")
    .select("repositories.full_name as repository")
    .where("tasks.id", "=", id)
    .executeTakeFirst();
  if (!task || !inScope(scope, task.repository_id)) return undefined;
  const runs = await db.selectFrom("runs").selectAll().where("task_id", "=", id).orderBy("id").execute();
  return { task, runs };
}

export async function getRunInScope(db: Db, id: number, scope: RepoScope): Promise<{ run: Run; task: TaskWithRepo } | undefined> {
  const run = await db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
  if (!run) return undefined;
  const found = await getTaskInScope(db, run.task_id, scope);
  return found ? { run, task: found.task } : undefined;
}
