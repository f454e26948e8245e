import path from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../../src/config/env.js";
import type { AgentRegistry } from "../../../src/executor/agents/registry.js";
import type { Agent, AgentRunInput } from "../../../src/executor/agents/types.js";
import { CircuitBreakers } from "../../../src/executor/circuit-breaker.js";
import { prepareWorkspace, runAgents, type TaskRun } from "../../../src/executor/run-task.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import { openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { claimTask, createTask } from "../../../src/store/tasks.js";
import { createLogger } from "../../../src/util/logger.js";
import { makeRemote } from "../../e2e/harness.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const log = createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

/** An agent whose model service refuses (an infrastructure failure), counting its calls. */
function refusing(name: string, calls: string[]): Agent {
  return {
    name,
    run: async (input: AgentRunInput) => {
      calls.push(name);
      return {
        outcome: "failed",
        exitCode: 1,
        summary: "",
        error: "529 overloaded",
        infrastructureFailure: true,
        turns: null,
        inputTokens: null,
        outputTokens: null,
        costUsd: null,
        transcriptPath: input.transcriptPath,
      };
    },
  };
}
function working(name: string, calls: string[]): Agent {
  return {
    name,
    run: async (input: AgentRunInput) => {
      calls.push(name);
      return {
        outcome: "finished",
        exitCode: 0,
        summary: "done",
        turns: 1,
        inputTokens: null,
        outputTokens: null,
        costUsd: null,
        transcriptPath: input.transcriptPath,
      };
    },
  };
}

describe("an agent whose circuit breaker is open", () => {
  it("is skipped for the fallback until its cool-down, and the PR notes say why", async () => {
    const dir = makeTempDir("backlog-bot-breaker-run-");
    dirs.push(dir);
    const remote = makeRemote(dir, { "a.txt": "one\n" });
    const dataDir = path.join(dir, "data");
    const db = await openDb(dataDir);
    const settings = loadSettings({ BACKLOG_BOT_DATA_DIR: dataDir, BACKLOG_BOT_BREAKER_FAILURES: "1" });
    const calls: string[] = [];
    const agents: AgentRegistry = {
      enabled: ["primary", "backup"],
      fallback: ["backup"],
      get: (name) => (name === "primary" ? refusing("primary", calls) : name === "backup" ? working("backup", calls) : undefined),
    };
    const breakers = new CircuitBreakers(db, settings.breaker, log);
    const repo = await upsertRepository(db, { fullName: "o/r", cloneUrl: `file://${remote}`, defaultBranch: "main" });
    const github = {
      octokit: async () => ({}) as never,
      token: async () => "unused",
      botIdentity: async () => ({ name: "b", email: "b@x" }),
    };
    const deps = { db, settings, log, agents, breakers, github, jobs: createSqliteJobs({ db, log }) };

    const runOnce = async (issue: number) => {
      const { task } = await createTask(db, {
        repositoryId: repo.id,
        issueNumber: issue,
        title: "t",
        agent: "primary",
        requestedBy: "m",
        trigger: "comment",
      });
      const claimed = await claimTask(db, task.id, "w", 60_000);
      const run: TaskRun = {
        deps,
        task: claimed as NonNullable<typeof claimed>,
        repo,
        owner: "w",
        signal: new AbortController().signal,
        log,
        github: { owner: "o", name: "r", octokit: {} as never },
        branch: `b-${issue}`,
        notes: [],
      };
      await prepareWorkspace(run);
      await runAgents(run);
      return run;
    };

    // First task: the primary fails for infrastructure reasons (breaker opens at 1), the backup runs.
    const first = await runOnce(1);
    expect(calls).toEqual(["primary", "backup"]);
    expect(first.agent).toBe("backup");
    expect(await breakers.notClosed()).toMatchObject([{ key: "agent:primary", state: "open" }]);
    // Second task: the primary is not even tried.
    const second = await runOnce(2);
    expect(calls).toEqual(["primary", "backup", "backup"]);
    expect(second.notes.join("\n")).toContain("`primary` was skipped: it failed repeatedly just before (529 overloaded)");
    await db.destroy();
  });
});
