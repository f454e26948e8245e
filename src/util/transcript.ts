import { readFile } from "node:fs/promises";

/**
 * One readable step of an agent's conversation, parsed from its transcript (the JSON lines the
 * agent CLIs write: Claude Code `stream-json`, Codex `exec --json`; see src/executor/agents/).
 * Lines that are not JSON (the command line, stderr, plain-text agents) become `text`.
 */
export type TranscriptEvent =
  | { kind: "message"; role: "assistant" | "user" | "system"; text: string }
  | { kind: "tool_call"; id: string | null; name: string; input: string }
  | { kind: "tool_result"; id: string | null; output: string; isError: boolean }
  | { kind: "result"; text: string; turns: number | null; costUsd: number | null; isError: boolean }
  | { kind: "text"; text: string };

/** Longest text kept per event (characters); a huge tool output is cut, the rest is in the file. */
const MAX_TEXT = 20_000;

const cut = (text: string): string =>
  text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}\n[cut: ${text.length - MAX_TEXT} more characters]` : text;
const str = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value ?? null, null, 2));

/** Parses one transcript line into zero or more events. */
export function parseTranscriptLine(line: string): TranscriptEvent[] {
  const trimmed = line.trim();
  if (!trimmed) return [];
  let event: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(trimmed);
    if (!value || typeof value !== "object" || Array.isArray(value)) return [{ kind: "text", text: cut(line) }];
    event = value as Record<string, unknown>;
  } catch {
    return [{ kind: "text", text: cut(line) }];
  }
  try {
    return fromClaude(event) ?? fromCodex(event) ?? [{ kind: "text", text: cut(trimmed) }];
  } catch {
    // The agent's output, of a shape no reader here expects (a null block, a nesting JSON.stringify refuses): shown as its text.
    return [{ kind: "text", text: cut(trimmed) }];
  }
}

/** Claude Code stream-json: `system`, `assistant`/`user` messages with content blocks, `result`. */
function fromClaude(event: Record<string, unknown>): TranscriptEvent[] | undefined {
  if (event.type === "system")
    return [{ kind: "message", role: "system", text: `session started${event.model ? ` (${str(event.model)})` : ""}` }];
  if (event.type === "result") {
    return [
      {
        kind: "result",
        text: cut(str(event.result ?? event.subtype ?? "")),
        turns: typeof event.num_turns === "number" ? event.num_turns : null,
        costUsd: typeof event.total_cost_usd === "number" ? event.total_cost_usd : null,
        isError: event.is_error === true,
      },
    ];
  }
  if (event.type !== "assistant" && event.type !== "user") return undefined;
  const role = event.type;
  const content = (event.message as { content?: unknown } | undefined)?.content;
  if (typeof content === "string") return [{ kind: "message", role, text: cut(content) }];
  const out: TranscriptEvent[] = [];
  for (const block of Array.isArray(content) ? (content as Array<Record<string, unknown>>) : []) {
    if (block.type === "text" && typeof block.text === "string") out.push({ kind: "message", role, text: cut(block.text) });
    else if (block.type === "tool_use")
      out.push({ kind: "tool_call", id: str(block.id), name: str(block.name), input: cut(str(block.input)) });
    else if (block.type === "tool_result") {
      const body = Array.isArray(block.content)
        ? (block.content as Array<{ text?: string }>).map((c) => c.text ?? "").join("\n")
        : str(block.content);
      out.push({
        kind: "tool_result",
        id: typeof block.tool_use_id === "string" ? block.tool_use_id : null,
        output: cut(body),
        isError: block.is_error === true,
      });
    }
  }
  return out;
}

/** Codex `exec --json`: `item.completed` items (agent_message, reasoning, command_execution, file_change, ...), `turn.failed`, `error`. */
function fromCodex(event: Record<string, unknown>): TranscriptEvent[] | undefined {
  if (event.type === "turn.failed" || event.type === "error") {
    const message = (event.error as { message?: string } | undefined)?.message ?? str(event.message ?? "error");
    return [{ kind: "result", text: cut(message), turns: null, costUsd: null, isError: true }];
  }
  if (event.type !== "item.completed") return typeof event.type === "string" && /^(thread|turn|item)\./.test(event.type) ? [] : undefined;
  const item = (event.item ?? {}) as Record<string, unknown>;
  const id = typeof item.id === "string" ? item.id : null;
  switch (item.type) {
    case "agent_message":
      return [{ kind: "message", role: "assistant", text: cut(str(item.text)) }];
    case "reasoning":
      return [{ kind: "message", role: "system", text: cut(str(item.text)) }];
    case "command_execution":
      return [
        { kind: "tool_call", id, name: "shell", input: cut(str(item.command)) },
        {
          kind: "tool_result",
          id,
          output: cut(str(item.aggregated_output ?? "")),
          isError: typeof item.exit_code === "number" && item.exit_code !== 0,
        },
      ];
    case "file_change":
      return [{ kind: "tool_call", id, name: "file_change", input: cut(str(item.changes)) }];
    default:
      return [{ kind: "tool_call", id, name: str(item.type ?? "item"), input: cut(str(item)) }];
  }
}

/** Parses a whole transcript; consecutive `text` lines are joined into one event. */
export function parseTranscript(text: string): TranscriptEvent[] {
  const out: TranscriptEvent[] = [];
  for (const line of text.split("\n")) {
    for (const event of parseTranscriptLine(line)) {
      const last = out.at(-1);
      if (event.kind === "text" && last?.kind === "text" && last.text.length < MAX_TEXT) last.text += `\n${event.text}`;
      else out.push(event);
    }
  }
  return out;
}

/** Reads and parses a transcript file; a missing or unreadable file is an empty transcript. */
export async function readTranscript(path: string | null): Promise<TranscriptEvent[]> {
  if (!path) return [];
  try {
    return parseTranscript(await readFile(path, "utf8"));
  } catch {
    return [];
  }
}
