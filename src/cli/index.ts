import type { CommandEntry } from "./command.js";

/**
 * The commands, by name. Adding one is a new file under src/cli/ (exporting `usage` and `run`, see
 * `CommandModule`) and one line here. Each module is imported only when its command runs: a local
 * `scan` or `backlog` never loads probot or the server.
 */
export const COMMANDS: Record<string, CommandEntry> = {
  scan: { summary: "Scan a local git repository (or --remote owner/repo) and print the ranked backlog", load: () => import("./scan.js") },
  backlog: { summary: "Print the stored backlog, ranked (--json streams every row)", load: () => import("./backlog.js") },
  serve: { summary: "Start the GitHub App server (same as npm start)", load: () => import("./serve.js") },
  tasks: { summary: "List agent tasks, newest first (--repo, --state, --json)", load: () => import("./tasks.js") },
  runs: { summary: "Show a task and its agent runs: outcome, turns, tokens, cost, verification", load: () => import("./runs.js") },
  transcript: { summary: "Print an agent run's transcript as a conversation (--full, --json)", load: () => import("./transcript.js") },
  fix: { summary: "Start agent work on a finding or #issue of a repository, as /agent fix does", load: () => import("./fix.js") },
  jobs: {
    summary: "Show the job queue, dead jobs and open circuit breakers; `jobs retry <id>` runs a dead job again",
    load: () => import("./jobs.js"),
  },
  doctor: { summary: "Check that this host can run the agents' sandbox; say what to install if not", load: () => import("./doctor.js") },
  "migrate-store": {
    summary: "Move the SQLite store into an empty PostgreSQL database (--to postgres://…)",
    load: () => import("./migrate-store.js"),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  const lines = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}${entry.summary}`);
  return [
    "Usage: backlog-bot <command> [options]",
    "",
    "Commands:",
    ...lines,
    `  ${"help".padEnd(width)}Show this text; \`help <command>\` (or \`<command> --help\`) shows a command's options`,
    "",
    "Environment: BACKLOG_BOT_DATA_DIR (default ./data) holds the SQLite store. See the README.",
  ].join("\n");
}

const HELP = new Set(["help", "--help", "-h"]);

/**
 * A reader that stops reading (`backlog --json | head`) ends the command quietly with exit 0, as
 * `git log | head` ends without a word, instead of Node's "Unhandled 'error' event" trace for
 * EPIPE. Not for `serve`: a server whose log pipe breaks must fail loudly, so its supervisor sees it.
 */
function endOnClosedStdout(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(0);
  });
}

/**
 * Runs the CLI with `argv` (without node and the script). Exit codes: 0 ok, 1 failure, 2 bad
 * usage or input (unknown command, not a git repository).
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || HELP.has(name)) {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic === undefined) {
      console.log(usage());
      return 0;
    }
    const entry = COMMANDS[topic];
    if (!entry) {
      console.error(`backlog-bot: unknown command "${topic}"\n\n${usage()}`);
      return 2;
    }
    console.log((await entry.load()).usage);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`backlog-bot: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (name !== "serve") endOnClosedStdout();
  const command = await entry.load();
  if (rest.some((arg) => HELP.has(arg) && arg !== "help")) {
    console.log(command.usage);
    return 0;
  }
  return command.run(rest);
}
