import { BacklogBotError } from "../util/errors.js";
import { runCommand } from "../util/exec.js";
import { type Hunk, lineBefore } from "./blame-history.js";
import { type GitSource, git } from "./git-source.js";

/** Pathspecs per `git diff`, far below the OS argument limit. */
const PATHS_PER_DIFF = 1000;
const HUNK = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** How one file changed between the horizon's boundary commit and the scanned commit. */
export interface BoundaryChange {
  /** `git diff --raw` status: `M` modified, `A` added (or renamed: no rename detection), `T` type change... */
  status: string;
  /** `-U0` hunks (empty with `rawOnly`). */
  hunks: Hunk[];
}

/**
 * The newest commit of `head`'s history made before `horizon` (committer date, as `git log
 * --before`), and how each of `paths` changed between it and `head`, from one `git diff` rather
 * than one per commit: the per-commit patches of a large, busy file are what made the full
 * replay slow (issue 14: 2.4 s and a 250 MB child on redis). Files absent from the result did not
 * change since the boundary. `undefined` when the whole history is younger than the horizon.
 * With `rawOnly` (partial clones: the boundary's blobs may be missing) no patch is read.
 * @throws CommandError or Error when git fails.
 */
export async function changesSinceHorizon(
  source: GitSource,
  head: string,
  horizon: Date,
  paths: string[],
  options: { rawOnly: boolean; boundary?: Promise<string | undefined> },
): Promise<{ boundary: string; changes: Map<string, BoundaryChange> } | undefined> {
  const boundary = await (options.boundary ?? boundaryCommit(source, head, horizon));
  if (!boundary) return undefined;
  const rawOnly = options.rawOnly;
  const changes = new Map<string, BoundaryChange>();
  const flags = ["--raw", "--no-abbrev", "--no-renames", "--no-color"];
  // histogram: 2-3x faster than myers on large, busy files (measured on redis); a line it calls
  // changed goes to `git blame`, which decides it exactly, so the algorithm only moves work.
  if (!rawOnly) flags.push("-p", "-U0", "--diff-algorithm=histogram", "--no-ext-diff", "--no-textconv");
  for (let i = 0; i < paths.length; i += PATHS_PER_DIFF) {
    const pathspecs = paths.slice(i, i + PATHS_PER_DIFF).map((p) => `:(literal)${p}`);
    let file: string | undefined;
    let header = false;
    const args = ["-c", "core.quotePath=false", "diff", ...flags, boundary, head, "--", ...pathspecs];
    const result = await runCommand("git", args, {
      cwd: source.dir,
      env: source.env,
      maxOutputBytes: 64 * 1024,
      onStdoutLine: (line) => {
        if (line.startsWith(":")) {
          const tab = line.indexOf("\t");
          const status = line.slice(1, tab).split(" ")[4] ?? "";
          changes.set(line.slice(tab + 1), { status, hunks: [] });
        } else if (line.startsWith("diff --git ")) {
          [header, file] = [true, undefined];
        } else if (header && line.startsWith("+++ b/")) {
          file = line.slice(6);
        } else if (line.startsWith("@@ ")) {
          header = false;
          const m = HUNK.exec(line);
          const change = file === undefined ? undefined : changes.get(file);
          if (m && change) change.hunks.push({ oldCount: Number(m[1] ?? 1), newStart: Number(m[2]), newCount: Number(m[3] ?? 1) });
        }
      },
    });
    if (result.exitCode !== 0)
      throw new BacklogBotError("COMMAND_FAILED", `git diff failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
  }
  return { boundary, changes };
}

/**
 * The newest commit of `head`'s history made before `horizon` (committer date, `--before`), or
 * undefined when there is none (all history is newer) or git fails. Cheap, and needs no paths, so
 * a scan starts it while git grep runs.
 */
export async function boundaryCommit(source: GitSource, head: string, horizon: Date): Promise<string | undefined> {
  const found = await git(source, ["rev-list", "--max-count=1", `--before=${horizon.toISOString()}`, `${head}^{commit}`, "--"]).catch(
    () => undefined,
  );
  return found?.stdout.trim() || undefined;
}

/** Splits `lines` of a file modified since the boundary into those the diff left alone and those it touched. */
export function splitByHunks(lines: number[], hunks: Hunk[]): { untouched: number[]; touched: number[] } {
  const untouched: number[] = [];
  const touched: number[] = [];
  for (const line of lines) (lineBefore(line, hunks) === undefined ? touched : untouched).push(line);
  return { untouched, touched };
}
