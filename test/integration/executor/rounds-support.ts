/**
 * A task ready for `runTaskSteps` with a real agent CLI: the Node fixture (its `sub` test fails)
 * as a local bare remote, a real SQLite store, a GitHub stub that records the PR and check runs.
 */
import path from "node:path";
import { Octokit } from "@octokit/rest";
import { createAgentRegistry } from "../../../src/executor/agents/registry.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import type { TaskRun } from "../../../src/executor/run-task.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask } from "../../../src/store/tasks.js";
import { testExecutorDeps } from "../../fixtures/executor-deps.js";
import { cloneBare, makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { nodeRepo } from "./verify-fixtures.js";

/** `sub` still wrong after the first edit (off by one), and right. */
export const WRONG = "exports.sub = (a, b) => a - b + 1;";
export const RIGHT = "exports.sub = (a, b) => a - b;";

/** Every string inside a JSON value, joined: what the model was shown. */
export function strings(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(strings).join("\n");
  if (value && typeof value === "object") return Object.values(value).map(strings).join("\n");
  return "";
}

/** The task's run and what the stub saw. */
export interface RoundsTask {
  run: TaskRun;
  taskId: number;
  db: Db;
  dataDir: string;
  checkRuns: Record<string, unknown>[];
  pulls: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * Sets up a claimed task titled "sub adds instead of subtracting" for the agents `env` enables
 * (loadAgentSettings variables), with the repository config `config` when given.
 */
export async function roundsTask(env: NodeJS.ProcessEnv, config?: unknown): Promise<RoundsTask> {
  const dir = makeTempDir();
  const dataDir = path.join(dir, "data");
  const db = await openDb(dataDir);
  const checkRuns: Record<string, unknown>[] = [];
  const pulls: Record<string, unknown>[] = [];
  const stub: GitHubStub = await startGitHubStub({
    "GET /repos/:owner/:repo/pulls": () => ({ body: [] }),
    "POST /repos/:owner/:repo/pulls": (req) => {
      pulls.push(req.body as Record<string, unknown>);
      return { status: 201, body: { number: 7, html_url: "https://github.test/octo/calc/pull/7" } };
    },
    "GET /repos/:owner/:repo/commits/:ref/check-runs": () => ({ body: { total_count: 0, check_runs: [] } }),
    "POST /repos/:owner/:repo/check-runs": (req) => {
      checkRuns.push(req.body as Record<string, unknown>);
      return { status: 201, body: { id: 1 } };
    },
  });
  const fixture = nodeRepo();
  const repo = await upsertRepository(db, {
    fullName: "octo/calc",
    installationId: 1,
    cloneUrl: cloneBare(fixture.dir),
    defaultBranch: "main",
  });
  if (config)
    await db
      .updateTable("repositories")
      .set({ config: JSON.stringify(config) })
      .where("id", "=", repo.id)
      .execute();
  const { task } = await createTask(db, {
    repositoryId: repo.id,
    title: "sub adds instead of subtracting",
    requestedBy: "maintainer",
    trigger: "cli",
  });
  const claimed = await claimTask(db, task.id, "worker-1", 120_000);
  const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
  const deps = testExecutorDeps({
    db,
    dataDir,
    agents: createAgentRegistry(loadAgentSettings(env)),
    baseUrl: stub.baseUrl,
    timeoutMs: 120_000,
    bot: { name: "backlog-bot[bot]", email: "1+bot@users.noreply.github.com" },
  });
  const log = deps.log;
  const run: TaskRun = {
    deps,
    task: claimed ?? task,
    repo,
    owner: "worker-1",
    signal: new AbortController().signal,
    log,
    github: { owner: "octo", name: "calc", octokit },
    branch: `backlog-bot/task-${task.id}`,
    notes: [],
  };
  const close = async () => {
    await db.destroy();
    await stub.close();
    removeDir(dir);
  };
  return { run, taskId: task.id, db, dataDir, checkRuns, pulls, close };
}
