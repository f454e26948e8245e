import { lastValidConfig } from "../config/load.js";
import type { RepoConfig } from "../config/schema.js";
import {
  type BacklogItem,
  type OutcomeRecord,
  parseGitAttributes,
  type Ranked,
  type RankOptions,
  rankBacklog,
  type TaskOutcomeKind,
} from "../prioritizer/index.js";
import type { Db } from "../store/db.js";
import { listOpenFindings, withoutDashboardIssues } from "../store/findings.js";
import { getGitAttributes } from "../store/git-attributes.js";
import { getRepositoryById } from "../store/repositories.js";
import type { FindingRow, Repository, Task } from "../store/schema.js";

const OUTCOMES: Record<string, TaskOutcomeKind> = { merged: "merged", closed: "closed", failed: "failed", no_changes: "no_changes" };

/** The repository's past bot tasks on findings, for the ranking's outcome feedback. */
export async function outcomeHistory(db: Db, repositoryId: number): Promise<OutcomeRecord[]> {
  const rows = await db
    .selectFrom("tasks")
    .innerJoin("findings", "findings.id", "tasks.finding_id")
    .select(["findings.kind", "findings.path", "tasks.state"])
    .where("tasks.repository_id", "=", repositoryId)
    .where("tasks.state", "in", Object.keys(OUTCOMES) as Task["state"][])
    .execute();
  return rows.flatMap((r) => {
    const outcome = OUTCOMES[r.state];
    return outcome ? [{ kind: r.kind, path: r.path, outcome }] : [];
  });
}

/**
 * Everything one repository's ranking depends on besides its findings: the `.gitattributes` its last
 * scan read (`linguist-vendored` / `linguist-generated`), `todo.exclude`, `todo.include` and
 * `todo.vendored` of its config, and its outcome history. Every surface ranks with these (the
 * dashboard, the web page and API, dashboard ticks, autopilot, the CLI), so they agree.
 * @param config the config in force; default the repository's last valid one (an unknown repository ranks with the defaults).
 */
export async function rankingOptionsFor(db: Db, repositoryId: number, config?: RepoConfig): Promise<RankOptions> {
  const [inForce, attributes, outcomes] = await Promise.all([
    config ?? getRepositoryById(db, repositoryId).then((r) => lastValidConfig(r ?? { config: null })),
    getGitAttributes(db, repositoryId),
    outcomeHistory(db, repositoryId),
  ]);
  return {
    attributes: parseGitAttributes(attributes?.content ?? ""),
    exclude: inForce.todo.exclude,
    include: inForce.todo.include,
    vendored: inForce.todo.vendored,
    outcomes,
  };
}

/**
 * The one ranking of a repository's open findings (`rankingOptionsFor`, `withoutDashboardIssues`), as
 * every server surface shows it. Reads only the store; `now` is the ranking's clock.
 * @param openFindings the repository's open findings (`listOpenFindings`) when the caller read them already.
 */
export async function rankRepositoryBacklog(
  db: Db,
  repository: Repository,
  config: RepoConfig,
  now: Date,
  openFindings?: readonly FindingRow[],
): Promise<Ranked<BacklogItem>[]> {
  const [findings, options] = await Promise.all([
    openFindings ?? listOpenFindings(db, repository.id),
    rankingOptionsFor(db, repository.id, config),
  ]);
  return rankBacklog(withoutDashboardIssues(findings, [repository]), now, options);
}
