import { realpath } from "node:fs/promises";
import { MAX_FINDINGS, scanTodos } from "../scanners/todo.js";
import { attributionStore } from "../store/attribution.js";
import { syncFindings } from "../store/findings.js";
import { upsertRepository } from "../store/repositories.js";
import { BacklogBotError } from "../util/errors.js";
import { parseCommandArgs, reportError, UsageError, withDb } from "./command.js";
import { parseLimit, printBacklog } from "./print-backlog.js";
import { progressLine } from "./progress.js";

export const usage = `Usage: backlog-bot scan [path] [--limit <n>] [--json]
       backlog-bot scan --remote <owner/repo> [--limit <n>] [--json]

Scans a local git repository (default: the current directory) for TODO, FIXME, HACK, XXX and BUG
comments, stores the findings and prints that repository's ranked backlog. A rescan reads only
the files changed since the last one. With --remote, runs the GitHub scans (stale issues,
labelled issues, failing checks, and the TODO scan in a mirror) once, with GITHUB_TOKEN
(GHE_HOST/GHE_PROTOCOL for GitHub Enterprise).

Options:
  --remote <o/r>  Scan a GitHub repository through the API instead of a local path.
  --limit <n>     Rows in the table (default 50).
  --json          Every row as JSON (one array, a row per line), streamed.
  --help          Show this text.`;

const OPTIONS = {
  remote: { type: "string" },
  limit: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

/** `backlog-bot scan`: exit 0, 1 when the scan fails, 2 when the path is no git repository. */
export async function run(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS);
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const limit = parseLimit(values.limit);
    const started = performance.now();
    return await withDb(async (db) => {
      let repositoryId: number;
      let label: string;
      let detail = "";
      let failures: string[] = [];
      if (values.remote) {
        // Only here: the remote scan brings in probot and Octokit.
        const [{ scanRemote }, { loadSettings }] = await Promise.all([import("./scan-remote.js"), import("../config/env.js")]);
        ({ repositoryId, failures } = await scanRemote({ fullName: values.remote, env: process.env, db, dataDir: loadSettings().dataDir }));
        label = values.remote;
      } else {
        const target = positionals[0] ?? ".";
        const cwd = await realpath(target).catch(() => {
          throw new BacklogBotError("NOT_A_GIT_REPOSITORY", `${target} is not a git repository (no such directory)`);
        });
        const repo = await upsertRepository(db, { fullName: cwd, cloneUrl: cwd });
        const progress = progressLine();
        try {
          const result = await scanTodos({ cwd, cache: attributionStore(db, repo.id), onProgress: (p) => progress.update(p) });
          const summary = await syncFindings(db, repo.id, result.findings, result.scope);
          // The ranking's Linguist rules, as the app stores them for a mirror (rankingOptionsFor reads them).
          const [{ refreshGitAttributes }, { createLogger }] = await Promise.all([
            import("../scheduler/git-attributes.js"),
            import("../util/logger.js"),
          ]);
          await refreshGitAttributes(db, repo, cwd, "HEAD", createLogger({ level: "warn", destination: process.stderr as never }));
          const a = result.attribution;
          const partial = a.unattributedLines ? `; partial clone: ${a.unattributedLines} lines unattributed` : "";
          const shallow = a.shallowBoundaryLines ? `; shallow clone: ${a.shallowBoundaryLines} lines at its boundary` : "";
          detail = ` (${summary.added} new, ${summary.resolved} resolved; ${result.filesRead} files read, ${a.cachedFiles} from the store, ${a.historyProcesses} history processes${partial}${shallow})`;
          if (result.leftOut)
            console.error(
              `warning: ${result.leftOut} more TODO findings were left out: a scan keeps the first ${MAX_FINDINGS} in path order (generated or vendored trees are the usual cause)`,
            );
        } finally {
          progress.done();
        }
        repositoryId = repo.id;
        label = cwd;
      }
      const rows = await printBacklog(db, { repositoryId, json: values.json, limit });
      console.error(`${rows} backlog rows in ${label}${detail} in ${Math.round(performance.now() - started)} ms`);
      // The backlog above holds what the other scanners found; a failed one makes the scan a failure.
      for (const failure of failures) console.error(`backlog-bot: scanner ${failure}`);
      return failures.length > 0 ? 1 : 0;
    });
  } catch (error) {
    return reportError(error, usage);
  }
}
