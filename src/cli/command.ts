import { type ParseArgsConfig, parseArgs } from "node:util";
import type { Db } from "../store/db.js";
import { BacklogBotError } from "../util/errors.js";

/**
 * One CLI command's module, loaded with `import()` only when that command runs, so that
 * `backlog-bot --help` loads none of them (issue 14: start-up <= 0.15 s).
 */
export interface CommandModule {
  /** The command's `--help` text. */
  usage: string;
  /** Runs the command with the arguments after its name; resolves the exit code (0 ok, 1 failure, 2 bad usage or input). */
  run(argv: string[]): Promise<number>;
}

/** An entry of the command table: a one-line summary for `--help`, and how to load the module. */
export interface CommandEntry {
  summary: string;
  load: () => Promise<CommandModule>;
}

/** Error codes that mean "bad input" (exit 2) rather than "failed" (exit 1). */
const INPUT_ERRORS = new Set(["NOT_A_GIT_REPOSITORY", "INVALID_SETTINGS"]);

/** A usage error: printed with the command's usage, exit 2. */
export class UsageError extends Error {}

/**
 * `parseArgs` with the command's options, turning its errors into a `UsageError`.
 * @throws UsageError on an unknown option, a missing value, or an empty one (`--repo ""`).
 */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: T; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  // An empty value is a mistake, never a choice: `scan --remote "$REPO"` with REPO unset must not scan `.`.
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === "" || (Array.isArray(value) && value.includes(""))) throw new UsageError(`--${name} needs a value`);
  }
  return parsed;
}

/** The exit code for an error thrown by a command, after printing it to stderr. */
export function reportError(error: unknown, usage: string): number {
  if (error instanceof UsageError) {
    console.error(`backlog-bot: ${error.message}\n\n${usage}`);
    return 2;
  }
  console.error(`backlog-bot: ${(error as Error).message}`);
  return error instanceof BacklogBotError && INPUT_ERRORS.has(error.code) ? 2 : 1;
}

/** Opens the store in `BACKLOG_BOT_DATA_DIR` for `fn`, and closes it after. */
export async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const [{ loadSettings }, { openDb }] = await Promise.all([import("../config/env.js"), import("../store/db.js")]);
  const settings = loadSettings();
  const db = await openDb(settings.dataDir, { ...(settings.databaseUrl && { databaseUrl: settings.databaseUrl }) });
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}
