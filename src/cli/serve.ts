import { parseArgs } from "node:util";

export const usage = `Usage: backlog-bot serve [--role web|worker|all]

Starts the GitHub App server, as \`npm start\` does. Stops on SIGINT or SIGTERM, letting running
jobs reach a safe point. Configuration comes from the environment (see the README).

Options:
  --role all      (default) take webhooks, serve the web pages and API, and run jobs
  --role web      take webhooks and serve pages only; jobs run in worker processes (PostgreSQL)
  --role worker   run jobs only`;

/** Starts the server and never resolves: the process ends on SIGINT/SIGTERM. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { role: { type: "string" } }, strict: true });
  const { runServer } = await import("../main.js");
  await runServer({ ...(values.role !== undefined && { role: values.role }) });
  return new Promise<number>(() => {});
}
