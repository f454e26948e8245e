import { readdirSync } from "node:fs";
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

interface Message {
  role: string;
  content: unknown;
}
type Block = { type?: string; text?: string };

const blocks = (m: Message): Block[] => (Array.isArray(m.content) ? (m.content as Block[]) : [{ type: "text", text: String(m.content) }]);
/** A user message the person (the bot) wrote: a turn, not tool results. */
const isTurn = (m: Message) => m.role === "user" && blocks(m).some((b) => b.type === "text");

/**
 * The model: in each turn, Read the file, Edit it, then say what it did. The first turn's edit
 * leaves `sub` off by one; the turn that carries the verification failure (round 2, in the resumed
 * session) makes it right, or, with `stuck`, changes nothing. Only the messages after the latest
 * turn decide the step, so a resumed session's history does not confuse it.
 */
function model(request: RecordedRequest, stuck = false) {
  const text = strings(request.json);
  const cwd = /Working directory: (\S+)/.exec(text)?.[1] ?? "";
  const file = path.join(cwd, "src/calc.js");
  const messages = (request.json as { messages?: Message[] }).messages ?? [];
  const last = messages.reduce((found, m, i) => (isTurn(m) ? i : found), 0);
  const toolResults = messages
    .slice(last)
    .flatMap(blocks)
    .filter((b) => b.type === "tool_result").length;
  const round2 = strings(messages[last]?.content).includes("verify_failure");
  if (round2 && stuck) return { text: "I could not find what is wrong." };
  if (toolResults === 0) return { toolUses: [{ name: "Read", input: { file_path: file } }] };
  if (toolResults === 1) {
    const [from, to] = round2 ? [WRONG, RIGHT] : ["exports.sub = (a, b) => a + b;", WRONG];
    return { toolUses: [{ name: "Edit", input: { file_path: file, old_string: from, new_string: to } }] };
  }
  return { text: round2 ? "Fixed sub after the failing test: it subtracts now." : "Made sub subtract." };
}

/** The messages of the main-loop request that first carried the verification failure (round 2's first). */
function secondRoundMessages(server: ScriptedServer): Message[] {
  const request = server.requests.find((r) => {
    const json = r.json as { tools?: unknown[]; messages?: Message[] } | undefined;
    return !!json?.tools?.length && strings(json.messages).includes("verify_failure");
  });
  return (request?.json as { messages?: Message[] } | undefined)?.messages ?? [];
}

describe("rounds with the real claude CLI", () => {
  let dir: string;
  let db: Db;
  let stub: GitHubStub;
  let server: ScriptedServer;
  let checkRuns: Record<string, unknown>[];
  let pulls: Record<string, unknown>[];
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

  /** A claimed task on the Node fixture (its `sub` test fails), run by the real `claude` against `script`. */
  async function setUp(script: (request: RecordedRequest) => ReturnType<typeof model>, config?: unknown) {
    dir = makeTempDir();
    db = await openDb(path.join(dir, "data"));
    checkRuns = [];
    pulls = [];
    server = await startAnthropicServer((request) => script(request));
    stub = await startGitHubStub({
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
    return { run, taskId: task.id };
  }

  it("takes 2 rounds to green: the failure reaches the resumed session, one PR, check run success, both rounds recorded", async () => {
    const { run, taskId } = await setUp((request) => model(request));

    const end = await runTaskSteps(run);

    expect(end).toMatchObject({ state: "pr_open", agent: "claude-code" });
    const runs = await listRuns(db, taskId);
    expect(runs.map((r) => [r.round, r.verification])).toEqual([
      [1, "no_new_failures"],
      [2, "passed"],
    ]);
    expect(runs[1]?.summary).toBe("Fixed sub after the failing test: it subtracts now.");
    // The same session both rounds: Claude Code's own id, resumed (not forked) in round 2.
    expect(runs[0]?.agent_session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(runs[1]?.agent_session_id).toBe(runs[0]?.agent_session_id);
    expect(checkRuns).toEqual([expect.objectContaining({ head_sha: run.commitSha, conclusion: "success" })]);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]?.body).toContain(
      "Verification took 2 rounds (round 1: no new failures, round 2: passed); the agent resumed its own session",
    );
    // Round 2's first request carries round 1's conversation (the task, the first edit, the first
    // summary): the session was resumed, not started again...
    const messages = secondRoundMessages(server);
    const history = strings(messages.slice(0, -1));
    expect(history).toContain("sub adds instead of subtracting");
    expect(history).toContain("Made sub subtract.");
    expect(history).toContain(WRONG);
    // ...and its new turn is only the failure, fenced as data: the command and the failing test's output, not the task again.
    const turn = strings(messages.at(-1)?.content);
    expect(turn).toContain('command="npm test"');
    expect(turn).toContain("not ok 2 - sub");
    expect(turn).not.toContain("sub adds instead of subtracting");
    expect(turn).not.toContain("<previous_summary");
    // The attempt's private HOME (where the session lived) is gone with the run.
    expect(readdirSync(path.join(dir, "data", "homes"))).toEqual([]);
  });

  it("stops at round 2 when the resumed round makes no progress, even with verify.maxRounds 5", async () => {
    const { run, taskId } = await setUp((request) => model(request, true), { verify: { maxRounds: 5 } });

    const end = await runTaskSteps(run);

    expect(end).toMatchObject({ state: "pr_open", agent: "claude-code" });
    const runs = await listRuns(db, taskId);
    expect(runs.map((r) => [r.round, r.verification])).toEqual([
      [1, "no_new_failures"],
      [2, "no_new_failures"],
    ]);
    expect(runs[1]?.agent_session_id).toBe(runs[0]?.agent_session_id);
    expect(run.notes.join("\n")).toContain("Verification round 2 made no progress (the round changed nothing)");
    expect(checkRuns).toEqual([expect.objectContaining({ head_sha: run.commitSha, conclusion: "failure" })]);
    expect(secondRoundMessages(server).length).toBeGreaterThan(1);
  });
});
