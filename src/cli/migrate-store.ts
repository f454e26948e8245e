import { existsSync } from "node:fs";
import path from "node:path";
import { parseCommandArgs, reportError, UsageError } from "./command.js";

export const usage = `Usage: backlog-bot migrate-store --to postgres://user:password@host:5432/db [--from <data dir>]

Moves an installation's state from its SQLite store to an empty PostgreSQL database: every table
(repositories, findings, tasks, runs, deliveries, HTTP cache, ...) with its ids, and the jobs still
pending, which become graphile-worker jobs. The SQLite file is brought to the current schema (as
any start of this version would), then only read. Stop backlog-bot first; then start it with
DATABASE_URL set to the same URL. See docs/deployment.md.

Options:
  --to <url>        The PostgreSQL database (created beforehand, empty; the schema is made here).
  --from <dir>      The data directory holding backlog-bot.sqlite (default BACKLOG_BOT_DATA_DIR, or ./data).
  --help            Show this text.`;

const OPTIONS = { to: { type: "string" }, from: { type: "string" } } as const;

/** `backlog-bot migrate-store`: exit 0; 1 when the copy fails (the target is left empty) or the target is not empty; 2 for bad options or no SQLite store. */
export async function run(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (!values.to) throw new UsageError("--to postgres://… is required");
    const [{ loadSettings }, db, { copySqliteToPostgres }, { createGraphileJobs }, { createLogger }] = await Promise.all([
      import("../config/env.js"),
      import("../store/db.js"),
      import("../store/copy-store.js"),
      import("../jobs/graphile.js"),
      import("../util/logger.js"),
    ]);
    if (!db.isPostgresUrl(values.to)) throw new UsageError("--to must be a postgres:// URL");
    const from = values.from ? path.resolve(values.from) : loadSettings({ ...process.env, DATABASE_URL: undefined }).dataDir;
    if (!existsSync(path.join(from, db.DATABASE_FILE))) {
      console.error(`backlog-bot: no SQLite store at ${path.join(from, db.DATABASE_FILE)}; give its data directory with --from`);
      return 2;
    }
    const source = await db.openDb(from);
    try {
      const target = await db.openDb(from, { databaseUrl: values.to });
      try {
        const report = await copySqliteToPostgres(source, target);
        for (const [table, rows] of Object.entries(report)) console.log(`${table.padEnd(20)} ${rows} rows`);
        const pending = await source.selectFrom("jobs").selectAll().where("state", "in", ["waiting", "running"]).orderBy("id").execute();
        const jobs = createGraphileJobs({ connectionString: values.to, log: createLogger({ level: "warn" }) });
        try {
          for (const job of pending) {
            await jobs.add({
              kind: job.kind,
              payload: JSON.parse(job.payload),
              key: job.key ?? undefined,
              queue: job.queue ?? undefined,
              runAt: new Date(job.run_at),
              maxAttempts: job.max_attempts,
            });
          }
        } finally {
          await jobs.stop(0);
        }
        const dead = await source.selectFrom("jobs").select("id").where("state", "=", "dead").execute();
        console.log(`${"jobs".padEnd(20)} ${pending.length} pending moved to graphile-worker`);
        if (dead.length > 0) console.log(`${dead.length} dead jobs stay in the SQLite file (they had used all their attempts)`);
        console.log(`Done. Start backlog-bot with DATABASE_URL=${db.redactUrl(values.to)}`);
        return 0;
      } finally {
        await target.destroy();
      }
    } finally {
      await source.destroy();
    }
  } catch (error) {
    return reportError(error, usage);
  }
}
