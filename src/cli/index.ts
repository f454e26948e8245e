import { realpath } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadSettings } from "../config/env.js";
import { rankBacklog } from "../prioritizer/index.js";
import { scanTodos } from "../scanners/todo.js";
import { type Db, openDb } from "../store/db.js";
import { listOpenFindings, syncFindings } from "../store/findings.js";
import { getRepository, upsertRepository } from "../store/repositories.js";
import { BacklogBotError } from "../util/errors.js";
import { formatJson, formatTable } from "./format.js";
import { scanRemote } from "./scan-remote.js";

const USAGE = `Usage: backlog-bot <command> [options]

Commands:
  scan [path]        Scan a local git repository for TODO/FIXME/HACK/XXX/BUG comments, store the
                     findings and print the ranked backlog (default path: the current directory).
  scan --remote o/r  Run the GitHub scans (stale issues, labelled issues, failing checks) once
                     against the API with GITHUB_TOKEN (GHE_HOST/GHE_PROTOCOL for Enterprise).
  backlog            Print the stored backlog, ranked (all repositories, or --repo).
  serve              Start the GitHub App server (same as npm start).
  help               Show this text.

Options:
  --json             Print JSON instead of a table (scan, backlog).
  --repo <name>      Only this repository (backlog): owner/name or a scanned path.
  --limit <n>        Rows in the table (default 50).

Environment: BACKLOG_BOT_DATA_DIR (default ./data) holds the SQLite store. See the README.`;

/** Exit codes: 0 ok, 1 failure, 2 bad usage or input (e.g. not a git repository). */
export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`backlog-bot: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command = "help", ...rest] = positionals;
  try {
    switch (command) {
      case "scan":
        return await withDb((db) => (values.remote ? scanRemoteRepository(db, values.remote, values) : scan(db, rest[0] ?? ".", values)));
      case "backlog":
        return await withDb((db) => backlog(db, values));
      case "serve": {
        const { start } = await import("../main.js");
        const running = await start();
        for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void running.stop().then(() => process.exit(0)));
        return await new Promise<number>(() => {});
      }
      case "help":
        console.log(USAGE);
        return 0;
      default:
        console.error(`backlog-bot: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof BacklogBotError && (error.code === "NOT_A_GIT_REPOSITORY" || error.code === "INVALID_SETTINGS")) {
      console.error(`backlog-bot: ${error.message}`);
      return 2;
    }
    console.error(`backlog-bot: ${(error as Error).message}`);
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      repo: { type: "string" },
      remote: { type: "string" },
      limit: { type: "string", default: "50" },
    },
  });
}
type Values = ReturnType<typeof parse>["values"];

async function withDb(fn: (db: Db) => Promise<number>): Promise<number> {
  const db = await openDb(loadSettings().dataDir);
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

async function scan(db: Db, target: string, values: Values): Promise<number> {
  const started = performance.now();
  const cwd = await realpath(target).catch(() => {
    throw new BacklogBotError("NOT_A_GIT_REPOSITORY", `${target} is not a git repository (no such directory)`);
  });
  const result = await scanTodos({ cwd });
  const repo = await upsertRepository(db, { fullName: cwd, cloneUrl: cwd });
  const summary = await syncFindings(db, repo.id, result.findings, result.scope);
  const ranked = rankBacklog(await listOpenFindings(db, repo.id), new Date());
  print(ranked, values);
  const ms = Math.round(performance.now() - started);
  console.error(`${ranked.length} open findings in ${cwd} (${summary.added} new, ${summary.resolved} resolved) in ${ms} ms`);
  return 0;
}

async function scanRemoteRepository(db: Db, fullName: string, values: Values): Promise<number> {
  const started = performance.now();
  const repositoryId = await scanRemote({ fullName, env: process.env, db, dataDir: loadSettings().dataDir });
  const ranked = rankBacklog(await listOpenFindings(db, repositoryId), new Date());
  print(ranked, values);
  console.error(`${ranked.length} open findings in ${fullName} in ${Math.round(performance.now() - started)} ms`);
  return 0;
}

async function backlog(db: Db, values: Values): Promise<number> {
  let repositoryId: number | undefined;
  if (values.repo) {
    const repo =
      (await getRepository(db, values.repo)) ?? (await getRepository(db, await realpath(values.repo).catch(() => values.repo ?? "")));
    if (!repo) {
      console.error(`backlog-bot: no repository "${values.repo}" in the store; run \`backlog-bot scan\` first`);
      return 2;
    }
    repositoryId = repo.id;
  }
  print(rankBacklog(await listOpenFindings(db, repositoryId), new Date()), values);
  return 0;
}

function print(ranked: ReturnType<typeof rankBacklog>, values: Values): void {
  console.log(values.json ? formatJson(ranked) : formatTable(ranked, Number(values.limit) || 50));
}
