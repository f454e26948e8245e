import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runTaskSteps } from "../../../src/executor/run-task.js";
import { listRuns } from "../../../src/store/runs.js";
import { type OpenAITurn, type RecordedRequest, type ScriptedServer, startOpenAIServer } from "../../fixtures/model-servers/openai.js";
import { RIGHT, type RoundsTask, roundsTask, strings, WRONG } from "./rounds-support.js";

const CODEX = path.resolve("node_modules/.bin/codex");

interface Item {
  type?: string;
  role?: string;
  content?: unknown;
}

/** A shell tool call in whichever form this Codex version offers (`exec_command` or the older `shell`). */
function shell(request: RecordedRequest, command: string): OpenAITurn {
  const tools = (request.json as { tools?: Array<{ name?: string }> }).tools ?? [];
  if (tools.some((tool) => tool.name === "exec_command")) return { functionCalls: [{ name: "exec_command", arguments: { cmd: command } }] };
  return { functionCalls: [{ name: "shell", arguments: { command: ["bash", "-lc", command] } }] };
}

/**
 * The model: each turn rewrites `sub` with one shell command, then says what it did. The first
 * turn leaves it off by one; the turn carrying the verification failure (round 2, in the resumed
 * thread) makes it right. Only the items after the latest user message decide the step.
 */
function model(request: RecordedRequest): OpenAITurn {
  const input = (request.json as { input?: Item[] }).input ?? [];
  const last = input.reduce((found, item, i) => (item.type === "message" && item.role === "user" ? i : found), 0);
  const outputs = input.slice(last).filter((item) => item.type === "function_call_output").length;
  const round2 = strings(input[last]?.content).includes("verify_failure");
  if (outputs === 0) return shell(request, `sed -i '2s/.*/${round2 ? RIGHT : WRONG}/' src/calc.js`);
  return { text: round2 ? "Fixed sub after the failing test." : "Made sub subtract." };
}

describe("rounds with the real codex CLI", () => {
  let server: ScriptedServer;
  let task: RoundsTask;
  afterEach(async () => {
    await task.close();
    await server.close();
  });

  it("takes 2 rounds to green in one resumed thread: the second request carries the first turn and the failure", async () => {
    server = await startOpenAIServer(model);
    task = await roundsTask({
      BACKLOG_BOT_AGENTS: "codex",
      BACKLOG_BOT_CODEX_PATH: CODEX,
      BACKLOG_BOT_CODEX_MODEL: "scripted-model",
      BACKLOG_BOT_CODEX_BASE_URL: `${server.url}/v1`,
      OPENAI_API_KEY: "sk-test-not-a-real-key-0000",
    });
    const { run, taskId, db, checkRuns, pulls } = task;

    const end = await runTaskSteps(run);

    expect(end).toMatchObject({ state: "pr_open", agent: "codex" });
    const runs = await listRuns(db, taskId);
    expect(runs.map((r) => [r.round, r.verification])).toEqual([
      [1, "no_new_failures"],
      [2, "passed"],
    ]);
    expect(runs[0]?.agent_session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(runs[1]?.agent_session_id).toBe(runs[0]?.agent_session_id);
    expect(checkRuns).toEqual([expect.objectContaining({ head_sha: run.commitSha, conclusion: "success" })]);
    expect(pulls).toHaveLength(1);
    const responses = server.requests.filter((r) => r.path.endsWith("/responses"));
    const second = responses.find((r) => r.body.includes("verify_failure"));
    const input = (second?.json as { input?: Item[] } | undefined)?.input ?? [];
    const turns = input.filter((item) => item.type === "message" && item.role === "user").map((item) => strings(item.content));
    // The first turn (the task) is in the history; the last turn is the failure alone.
    expect(turns.some((t) => t.includes("sub adds instead of subtracting"))).toBe(true);
    expect(strings(input)).toContain("Made sub subtract.");
    expect(turns.at(-1)).toContain('command="npm test"');
    expect(turns.at(-1)).not.toContain("sub adds instead of subtracting");
  });
});
