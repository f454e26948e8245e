import { serverRole } from "../config/environment.js";
import { parseCommandArgs, reportError, UsageError } from "./command.js";

export const usage = `Usage: backlog-bot serve [--role web|worker|all]

Starts the GitHub App server, as \`npm start\` does. Stops on SIGINT or SIGTERM, letting running
jobs reach a safe point. Configuration comes from the environment (see the README).

Options:
  --role all      (default) take webhooks, serve the web pages and API, and run jobs
  --role web      take webhooks and serve pages only; jobs run in worker processes (PostgreSQL)
  --role worker   run jobs only`;

const OPTIONS = { role: { type: "string" } } as const;

/** Starts the server and never resolves: the process ends on SIGINT/SIGTERM. Exit 2 for bad options, before anything starts. */
export async function run(argv: string[]): Promise<number> {
  let role: string | undefined;
  try {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    role = values.role === undefined ? undefined : serverRole(values.role);
  } catch (error) {
    return reportError(error, usage);
  }
  const { runServer } = await import("../main.js");
  await runServer({ ...(role !== undefined && { role }) });
  return new Promise<number>(() => {});
}
