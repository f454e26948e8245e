import { terminalText } from "../util/invisible.js";
import { parseCommandArgs, reportError, UsageError, withDb } from "./command.js";

export const usage = `Usage: backlog-bot jobs [--json]
       backlog-bot jobs retry <id>

Shows the job queue: how many jobs wait and run, the age of the oldest due one, every dead job
(a job that used all its attempts) with its last error, and the circuit breakers that are open.
\`jobs retry <id>\` puts a dead job back to run now with fresh attempts (a running server picks it
up within a second).

Options:
  --json     Print JSON.
  --help     Show this text.`;

/** `backlog-bot jobs`: exit 0; `jobs retry <id>`: 0 when the job was dead and is queued again, 1 when not. */
export async function run(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: "boolean", default: false } });
    const [verb, id, ...extra] = positionals;
    if (extra.length > 0 || (verb !== undefined && verb !== "retry") || (verb === "retry" && !id)) {
      throw new UsageError(verb === "retry" ? "`jobs retry` needs the id of a dead job" : `unexpected argument "${positionals[0]}"`);
    }
    return await withDb(async (db) => {
      const [{ createJobs }, { loadSettings }, { createLogger }, { CircuitBreakers }] = await Promise.all([
        import("../jobs/index.js"),
        import("../config/env.js"),
        import("../util/logger.js"),
        import("../executor/circuit-breaker.js"),
      ]);
      const settings = loadSettings();
      const log = createLogger({ level: "warn", destination: process.stderr as never });
      const jobs = createJobs({ db, log, ...(settings.databaseUrl && { databaseUrl: settings.databaseUrl }) });
      if (verb === "retry") {
        const retried = await jobs.retry(id as string);
        console.log(retried ? `job ${id} queued again` : `job ${id} is not dead (or does not exist); nothing done`);
        return retried ? 0 : 1;
      }
      const [stats, dead, breakers] = await Promise.all([
        jobs.stats(),
        jobs.dead(50),
        new CircuitBreakers(db, settings.breaker, log).notClosed(),
      ]);
      if (values.json) {
        console.log(JSON.stringify({ stats, dead, breakers }, null, 2));
        return 0;
      }
      console.log(
        `${stats.pending} pending (${stats.running} running), ${stats.dead} dead; oldest due job waiting ${Math.round(stats.oldestDueMs / 1000)} s`,
      );
      for (const job of dead) {
        console.log(
          `dead ${job.id.padStart(6)}  ${job.kind.padEnd(10)} ${job.attempts} attempts, last ${job.failedAt}: ${terminalText((job.lastError ?? "").split("\n")[0]?.slice(0, 160) ?? "")}`,
        );
      }
      for (const b of breakers)
        console.log(`breaker ${b.key}: ${b.state} after ${b.failures} failures: ${terminalText((b.lastError ?? "").slice(0, 160))}`);
      return 0;
    });
  } catch (error) {
    return reportError(error, usage);
  }
}
