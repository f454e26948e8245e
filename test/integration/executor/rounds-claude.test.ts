import path from "node:path";
import { Octokit } from "@octokit/rest";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Settings } from "../../../src/config/env.js";
import { createAgentRegistry } from "../../../src/executor/agents/registry.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import { CircuitBreakers } from "../../../src/executor/circuit-breaker.js";
import { runTaskSteps, type TaskRun } from "../../../src/executor/run-task.js";
import type { Jobs } from "../../../src/jobs/types.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { listRuns } from "../../../src/store/runs.js";
import { claimTask, createTask } from "../../../src/store/tasks.js";
import { createLogger } from "../../../src/util/logger.js";
import { cloneBare, makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { type RecordedRequest, type ScriptedServer, startAnthropicServer } from "../../fixtures/model-servers/anthropic.js";
import { nodeRepo } from "./verify-fixtures.js";

const CLAUDE = path.resolve("node_modules/.bin/claude");
const WRONG = "exports.sub = (a, b) => a - b + 1;";
const RIGHT = "exports.sub = (a, b) => a - b;";

/** Every string inside a JSON value, joined: what the model was shown. */
function strings(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(strings).join("\n");
  if (value && typeof value === "object") return Object.values(value).map(strings).join("\n");
  return "";
}

/**
 * The model: in each session, Read the file, Edit it, then say what it did. The first session's
 * edit leaves `sub` off by one; once the prompt carries the verification failure (round 2) the
 * edit is right.
 */
function model(request: RecordedRequest) {
  const text = strings(request.json);
  const cwd = /Working directory: (\S+)/.exec(text)?.[1] ?? "";
  const file = path.join(cwd, "src/calc.js");
  const messages = (request.json as { messages?: Array<{ content?: unknown }> }).messages ?? [];
  const toolResults = messages
    .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
    .filter((c) => (c as { type?: string }).type === "tool_result").length;
  const round2 = text.includes("verify_failure");
  if (toolResults === 0) return { toolUses: [{ name: "Read", input: { file_path: file } }] };
  if (toolResults === 1) {
    const [from, to] = round2 ? [WRONG, RIGHT] : ["exports.sub = (a, b) => a + b;", WRONG];
    return { toolUses: [{ name: "Edit", input: { file_path: file, old_string: from, new_string: to } }] };
  }
  return { text: round2 ? "Fixed sub after the failing test: it subtracts now." : "Made sub subtract." };
}

describe("rounds with the real claude CLI", () => {
  let dir: string;
  let db: Db;
  let stub: GitHubStub;
  let server: ScriptedServer;
  const checkRuns: Record<string, unknown>[] = [];
  beforeAll(() => {
    process.env.BACKLOG_BOT_SANDBOX = "off";
  });
  afterAll(() => {
    delete process.env.BACKLOG_BOT_SANDBOX;
  });
  afterEach(async () => {
    await db.destroy();
    await stub.close();
    await server.close();
    removeDir(dir);
  });

  it("takes 2 rounds to green: the failure reaches the second session, one PR, check run success, both rounds recorded", async () => {
    dir = makeTempDir();
    db = await openDb(path.join(dir, "data"));
    server = await startAnthropicServer((request) => model(request));
    stub = await startGitHubStub({
      "GET /repos/:owner/:repo/pulls": () => ({ body: [] }),
      "POST /repos/:owner/:repo/pulls": () => ({ status: 201, body: { number: 7, html_url: "https://github.test/octo/calc/pull/7" } }),
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
    const { task } = await createTask(db, {
      repositoryId: repo.id,
      title: "sub adds instead of subtracting",
      requestedBy: "maintainer",
      trigger: "cli",
    });
    const claimed = await claimTask(db, task.id, "worker-1", 120_000);
    const agents = createAgentRegistry(
      loadAgentSettings({
        ...process.env,
        BACKLOG_BOT_AGENTS: "claude-code",
        BACKLOG_BOT_CLAUDE_PATH: CLAUDE,
        BACKLOG_BOT_CLAUDE_MODEL: "claude-sonnet-4-5",
        BACKLOG_BOT_CLAUDE_MAX_TURNS: "8",
        BACKLOG_BOT_CLAUDE_ENV: "ANTHROPIC_API_KEY,ANTHROPIC_BASE_URL",
        ANTHROPIC_API_KEY: "sk-ant-test-not-a-real-key",
        ANTHROPIC_BASE_URL: server.url,
      }),
    );
    const log = createLogger({ level: "silent" });
    const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
    const run: TaskRun = {
      deps: {
        db,
        settings: { dataDir: path.join(dir, "data"), agentTimeoutMs: 120_000, leaseMs: 120_000, maxOutputBytes: 1024 * 1024 } as Settings,
        agents,
        github: {
          octokit: async () => octokit,
          token: async () => "unused",
          botIdentity: async () => ({ name: "backlog-bot[bot]", email: "1+bot@users.noreply.github.com" }),
        },
        jobs: {} as Jobs,
        breakers: new CircuitBreakers(db, { failures: 3, cooldownMs: 60_000 }, log),
        log,
      },
      task: claimed ?? task,
      repo,
      owner: "worker-1",
      signal: new AbortController().signal,
      log,
      github: { owner: "octo", name: "calc", octokit },
      branch: `backlog-bot/task-${task.id}`,
      notes: [],
    };

    const end = await runTaskSteps(run);

    expect(end).toMatchObject({ state: "pr_open", agent: "claude-code" });
    const runs = await listRuns(db, task.id);
    expect(runs.map((r) => [r.round, r.verification])).toEqual([
      [1, "no_new_failures"],
      [2, "passed"],
    ]);
    expect(runs[1]?.summary).toBe("Fixed sub after the failing test: it subtracts now.");
    expect(checkRuns).toEqual([expect.objectContaining({ head_sha: run.commitSha, conclusion: "success" })]);
    // The second session's prompt carried the failure: the command and the failing test's output.
    const second = server.requests.map((r) => strings(r.json)).find((t) => t.includes("verify_failure")) ?? "";
    expect(second).toContain('command="npm test"');
    expect(second).toContain("not ok 2 - sub");
  });
});
