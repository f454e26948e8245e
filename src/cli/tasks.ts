import { terminalText } from "../util/invisible.js";
import { listTasksPage } from "../web/queries.js";
import { parseCommandArgs, reportError, UsageError, withDb } from "./command.js";

export const usage = `Usage: backlog-bot tasks [--repo <owner/name>] [--state <state>] [--limit <n>] [--json]

Lists agent tasks, newest first: the same read as GET /api/v1/tasks.

Options:
  --repo <name>    Only this repository (owner/name).
  --state <state>  Only tasks in this state: queued, running, pr_open, merged, closed, no_changes, failed, cancelled.
  --limit <n>      Rows (default 50, at most 1000).
  --json           JSON lines, one task per line.
  --help           Show this text.`;

const STATES = ["queued", "running", "pr_open", "merged", "closed", "no_changes", "failed", "cancelled"] as const;
type State = (typeof STATES)[number];

const OPTIONS = {
  repo: { type: "string" },
  state: { type: "string" },
  limit: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

/** Text width of a table cell; longer text is cut at the end with an ellipsis. */
const CELL_WIDTH = 60;

/** A plain-text table: header, then rows, columns padded to their widest cell (the last one never padded). */
export function table(header: string[], rows: string[][]): string {
  const clean = rows.map((r) =>
    r.map((c) => {
      const line = terminalText(c).replace(/\s+/g, " ").trim();
      return line.length > CELL_WIDTH ? `${line.slice(0, CELL_WIDTH - 1)}…` : line;
    }),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...clean.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ");
  return [line(header), ...clean.map(line)].join("\n");
}

/** Parses `--limit` (1..max). @throws UsageError otherwise. */
export function limitOf(value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--limit must be a whole number from 1 to ${max}`);
  return n;
}

/** `backlog-bot tasks`: exit 0; 2 for bad options or an unknown repository. */
export async function run(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const limit = limitOf(values.limit, 50, 1000);
    if (values.state && !STATES.includes(values.state as State)) throw new UsageError(`--state must be one of ${STATES.join(", ")}`);
    return await withDb(async (db) => {
      let repositoryId: number | undefined;
      if (values.repo) {
        const repo = await db.selectFrom("repositories").select("id").where("full_name", "=", values.repo).executeTakeFirst();
        if (!repo) {
          console.error(`backlog-bot: no repository "${values.repo}" in the store`);
          return 2;
        }
        repositoryId = repo.id;
      }
      const tasks = (await listTasksPage(db, "all", { repositoryId, state: values.state as State | undefined, limit })).slice(0, limit);
      if (values.json) {
        for (const t of tasks) console.log(JSON.stringify(t));
        return 0;
      }
      if (tasks.length === 0) {
        console.log("No tasks.");
        return 0;
      }
      console.log(
        table(
          ["ID", "STATE", "REPO", "AGENT", "PR", "ASKED BY", "CREATED", "TITLE"],
          tasks.map((t) => [
            String(t.id),
            t.state,
            t.repository,
            t.agent ?? "",
            t.pr_number ? `#${t.pr_number}` : "",
            t.requested_by,
            t.created_at.slice(0, 16).replace("T", " "),
            t.title,
          ]),
        ),
      );
      return 0;
    });
  } catch (error) {
    return reportError(error, usage);
  }
}
