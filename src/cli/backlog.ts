import { realpath } from "node:fs/promises";
import { getRepository } from "../store/repositories.js";
import { parseCommandArgs, reportError, UsageError, withDb } from "./command.js";
import { parseLimit, printBacklog } from "./print-backlog.js";

export const usage = `Usage: backlog-bot backlog [--repo <name>] [--limit <n>] [--json]

Prints the stored backlog, ranked, from every repository or one.

Options:
  --repo <name>   Only this repository: owner/name, or the path of a scanned checkout.
  --limit <n>     Rows in the table (default 50).
  --json          Every row as JSON (one array, a row per line), streamed.
  --help          Show this text.`;

const OPTIONS = {
  repo: { type: "string" },
  limit: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

/** `backlog-bot backlog`: exit 0, or 2 for an unknown repository or bad options. */
export async function run(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const limit = parseLimit(values.limit);
    return await withDb(async (db) => {
      let repositoryId: number | undefined;
      if (values.repo) {
        const name = values.repo;
        const repo = (await getRepository(db, name)) ?? (await getRepository(db, await realpath(name).catch(() => name)));
        if (!repo) {
          console.error(`backlog-bot: no repository "${name}" in the store; run \`backlog-bot scan\` first`);
          return 2;
        }
        repositoryId = repo.id;
      }
      await printBacklog(db, { repositoryId, json: values.json, limit });
      return 0;
    });
  } catch (error) {
    return reportError(error, usage);
  }
}
