export const usage = `Usage: backlog-bot serve

Starts the GitHub App server (webhooks, scheduler, executor), as \`npm start\` does. Stops on
SIGINT or SIGTERM. Configuration comes from the environment (see the README).`;

/** Starts the server and never resolves: the process ends on SIGINT/SIGTERM. */
export async function run(_argv: string[]): Promise<number> {
  const { start } = await import("../main.js");
  const running = await start();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void running.stop().then(() => process.exit(0)));
  return new Promise<number>(() => {});
}
