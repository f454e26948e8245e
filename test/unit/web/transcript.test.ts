import { describe, expect, it } from "vitest";
import { subscribe, transcriptPublisher, type WebEvent } from "../../../src/web/events.js";
import { parseTranscript, parseTranscriptLine } from "../../../src/web/transcript.js";

describe("transcript parsing", () => {
  it("reads Codex exec --json items as messages, shell calls with their output, and failures", () => {
    const lines = [
      JSON.stringify({ type: "thread.started", thread_id: "x" }),
      JSON.stringify({ type: "item.completed", item: { id: "i1", type: "agent_message", text: "Looking." } }),
      JSON.stringify({
        type: "item.completed",
        item: { id: "i2", type: "command_execution", command: "npm test", aggregated_output: "1 failing", exit_code: 1 },
      }),
      JSON.stringify({ type: "turn.failed", error: { message: "rate limited" } }),
    ];
    expect(parseTranscript(lines.join("\n"))).toEqual([
      { kind: "message", role: "assistant", text: "Looking." },
      { kind: "tool_call", id: "i2", name: "shell", input: "npm test" },
      { kind: "tool_result", id: "i2", output: "1 failing", isError: true },
      { kind: "result", text: "rate limited", turns: null, costUsd: null, isError: true },
    ]);
  });

  it("joins plain-text lines, keeps unknown JSON as text, and cuts huge outputs", () => {
    expect(parseTranscript("$ agent run\n--- stderr\nboom")).toEqual([{ kind: "text", text: "$ agent run\n--- stderr\nboom" }]);
    expect(parseTranscriptLine('{"hello":1}')).toEqual([{ kind: "text", text: '{"hello":1}' }]);
    // Shapes the readers do not expect are shown as text, never thrown on.
    for (const odd of [
      { type: "assistant", message: { content: [null] } },
      { type: "user", message: { content: [{ type: "tool_result", content: [null] }] } },
    ]) {
      expect(parseTranscriptLine(JSON.stringify(odd))).toEqual([{ kind: "text", text: JSON.stringify(odd) }]);
    }
    const big = parseTranscriptLine(
      JSON.stringify({
        type: "user",
        message: { content: [{ type: "tool_result", tool_use_id: "t", content: "x".repeat(30_000), is_error: true }] },
      }),
    );
    expect(big[0]).toMatchObject({ kind: "tool_result", isError: true });
    expect((big[0] as { output: string }).output).toMatch(/\[cut: 10000 more characters\]$/);
  });

  it("publishes a running agent's lines as transcript events", () => {
    const got: WebEvent[] = [];
    const stop = subscribe((e) => got.push(e));
    transcriptPublisher(3, 9, "o/a")(JSON.stringify({ type: "assistant", message: { content: [{ type: "text", text: "hi" }] } }));
    stop();
    expect(got).toEqual([
      { type: "transcript", taskId: 3, runId: 9, repository: "o/a", event: { kind: "message", role: "assistant", text: "hi" } },
    ]);
  });
});
