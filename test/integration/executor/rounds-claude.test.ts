import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runTaskSteps } from "../../../src/executor/run-task.js";
import { listRuns } from "../../../src/store/runs.js";
import { type RecordedRequest, type ScriptedServer, startAnthropicServer } from "../../fixtures/model-servers/anthropic.js";
import { RIGHT, type RoundsTask, roundsTask, strings, WRONG } from "./rounds-support.js";

const CLAUDE = path.resolve("node_modules/.bin/claude");

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
  let server: ScriptedServer;
  let task: RoundsTask;
  beforeAll(() => {
    process.env.BACKLOG_BOT_SANDBOX = "off";
  });
  afterAll(() => {
    delete process.env.BACKLOG_BOT_SANDBOX;
  });
  afterEach(async () => {
    await task.close();
    await server.close();
  });

  /** The task, run by the real `claude` against `script`. */
  async function setUp(script: (request: RecordedRequest) => ReturnType<typeof model>, config?: unknown): Promise<RoundsTask> {
    server = await startAnthropicServer((request) => script(request));
    task = await roundsTask(
      {
        ...process.env,
        BACKLOG_BOT_AGENTS: "claude-code",
        BACKLOG_BOT_CLAUDE_PATH: CLAUDE,
        BACKLOG_BOT_CLAUDE_MODEL: "claude-sonnet-4-5",
        BACKLOG_BOT_CLAUDE_MAX_TURNS: "8",
        BACKLOG_BOT_CLAUDE_ENV: "ANTHROPIC_API_KEY,ANTHROPIC_BASE_URL",
        ANTHROPIC_API_KEY: "sk-ant-test-not-a-real-key",
        ANTHROPIC_BASE_URL: server.url,
      },
      config,
    );
    return task;
  }

  it("takes 2 rounds to green: the failure reaches the resumed session, one PR, check run success, both rounds recorded", async () => {
    const { run, taskId, db, checkRuns, pulls, dataDir } = await setUp((request) => model(request));

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
    expect(readdirSync(path.join(dataDir, "homes"))).toEqual([]);
  });

  it("stops at round 2 when the resumed round makes no progress, even with verify.maxRounds 5", async () => {
    const { run, taskId, db, checkRuns } = await setUp((request) => model(request, true), { verify: { maxRounds: 5 } });

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
