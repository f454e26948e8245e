import { terminalText } from "../util/invisible.js";
import { getRunInScope } from "../web/queries.js";
import { readTranscript, type TranscriptEvent } from "../web/transcript.js";
import { parseCommandArgs, reportError, UsageError, withDb } from "./command.js";

export const usage = `Usage: backlog-bot transcript <run> [--full] [--json]

Prints an agent run's transcript as a conversation: messages, tool calls (→) and their results (←),
the same events as GET /api/v1/runs/<run>.

Options:
  --full   Print tool inputs and outputs whole (default: their first 8 lines).
  --json   The parsed events, one JSON object per line.
  --help   Show this text.`;

const OPTIONS = { full: { type: "boolean", default: false }, json: { type: "boolean", default: false } } as const;
/** Lines of a tool's input or output shown without --full. */
const PREVIEW_LINES = 8;

function preview(text: string, full: boolean): string {
  const lines = text.split("\n");
  if (full || lines.length <= PREVIEW_LINES) return text;
  return `${lines.slice(0, PREVIEW_LINES).join("\n")}\n… ${lines.length - PREVIEW_LINES} more lines (--full)`;
}

const indent = (text: string): string => text.replace(/^/gm, "    ");

/** One event as terminal text. */
export function formatEvent(e: TranscriptEvent, full: boolean): string {
  switch (e.kind) {
    case "message":
      return `${e.role}:\n${indent(e.text)}`;
    case "tool_call":
      return `→ ${e.name}\n${indent(preview(e.input, full))}`;
    case "tool_result":
      return `← ${e.isError ? "error" : "result"}\n${indent(preview(e.output, full))}`;
    case "result":
      return `result${e.isError ? " (error)" : ""}${e.turns !== null ? ` · ${e.turns} turns` : ""}${e.costUsd !== null ? ` · $${e.costUsd.toFixed(2)}` : ""}:\n${indent(e.text)}`;
    default:
      return indent(preview(e.text, full));
  }
}

/** `backlog-bot transcript <run>`: exit 0; 2 for a bad or unknown run id. */
export async function run(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS);
    const id = Number(positionals[0]);
    if (positionals.length !== 1 || !Number.isInteger(id) || id < 1)
      throw new UsageError("give one run id, e.g. `backlog-bot transcript 40`");
    return await withDb(async (db) => {
      const found = await getRunInScope(db, id, "all");
      if (!found) {
        console.error(`backlog-bot: no run ${id} in the store`);
        return 2;
      }
      const events = await readTranscript(found.run.transcript_path);
      if (values.json) {
        for (const e of events) console.log(JSON.stringify(e));
        return 0;
      }
      console.log(`Run ${found.run.id} of task ${found.task.id} · ${found.run.agent} · ${found.run.outcome ?? "running"}\n`);
      if (events.length === 0) console.log("The transcript is empty or was not kept.");
      for (const e of events) console.log(`${terminalText(formatEvent(e, values.full))}\n`);
      return 0;
    });
  } catch (error) {
    return reportError(error, usage);
  }
}
