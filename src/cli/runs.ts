import { terminalText } from "../util/invisible.js";
import { getTaskInScope } from "../web/queries.js";
import { parseCommandArgs, reportError, UsageError, withDb } from "./command.js";
import { table } from "./tasks.js";

export const usage = `Usage: backlog-bot runs <task> [--json]

Shows one task and its agent runs (outcome, turns, tokens, cost, verification): the same read as
GET /api/v1/tasks/<task>. See a run's conversation with \`backlog-bot transcript <run>\`.

Options:
  --json   The task with its runs as one JSON object.
  --help   Show this text.`;

const OPTIONS = { json: { type: "boolean", default: false } } as const;

/** `backlog-bot runs <task>`: exit 0; 2 for a bad or unknown task id. */
export async function run(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS);
    const id = Number(positionals[0]);
    if (positionals.length !== 1 || !Number.isInteger(id) || id < 1) throw new UsageError("give one task id, e.g. `backlog-bot runs 12`");
    return await withDb(async (db) => {
      const found = await getTaskInScope(db, id, "all");
      if (!found) {
        console.error(`backlog-bot: no task ${id} in the store`);
        return 2;
      }
      const { task, runs } = found;
      if (values.json) {
        console.log(JSON.stringify({ ...task, runs }));
        return 0;
      }
      console.log(
        terminalText(`Task ${task.id} · ${task.repository} · ${task.state}${task.pr_url ? ` · ${task.pr_url}` : ""}\n${task.title}`),
      );
      if (task.error) console.log(terminalText(`Error: ${task.error}`));
      console.log("");
      if (runs.length === 0) {
        console.log("No runs yet.");
        return 0;
      }
      console.log(
        table(
          ["RUN", "AGENT", "OUTCOME", "STARTED", "TURNS", "TOKENS IN/OUT", "COST", "VERIFICATION"],
          runs.map((r) => [
            String(r.id),
            r.agent,
            r.outcome ?? "running",
            r.started_at.slice(0, 19).replace("T", " "),
            r.turns === null ? "" : String(r.turns),
            r.input_tokens === null && r.output_tokens === null ? "" : `${r.input_tokens ?? 0}/${r.output_tokens ?? 0}`,
            r.cost_usd === null ? "" : `$${r.cost_usd.toFixed(2)}`,
            r.verification ?? "",
          ]),
        ),
      );
      return 0;
    });
  } catch (error) {
    return reportError(error, usage);
  }
}
