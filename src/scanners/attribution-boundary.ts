import { BacklogBotError } from "../util/errors.js";
import { endedHow, runCommand } from "../util/exec.js";
import { type Hunk, lineBefore } from "./blame-history.js";
import { type GitSource, git, patchNewPath, unquoteGitPath } from "./git-source.js";

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

/** How `changesSinceHorizon` runs and reports. */
export interface BoundaryDiffOptions {
  /** Touches only, no patches (partial clones: the boundary's blobs may be missing). */
  rawOnly: boolean;
  /** `boundaryCommit`, when started early. */
  boundary?: Promise<string | undefined>;
  /**
   * Called once per changed file as soon as its hunks are complete, while the diff goes on, with
   * the number of changed files this `git diff` names (a caller may start `git blame` early when few).
   */
  onFile?: (path: string, change: BoundaryChange, changedInDiff: number) => void;
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
  options: BoundaryDiffOptions,
): Promise<{ boundary: string; changes: Map<string, BoundaryChange> } | undefined> {
  const boundary = await (options.boundary ?? boundaryCommit(source, head, horizon));
  if (!boundary) return undefined;
  const changes = new Map<string, BoundaryChange>();
  // Split in two over the cores measured no faster on redis or the built bench repository: one process.
  for (let i = 0; i < paths.length; i += PATHS_PER_DIFF) {
    await diffGroup(source, boundary, head, paths.slice(i, i + PATHS_PER_DIFF), options, changes);
  }
  return { boundary, changes };
}

/** One `git diff <boundary> <head> -- <paths>`, parsed into `changes`; reports each file as its patch ends. */
async function diffGroup(
  source: GitSource,
  boundary: string,
  head: string,
  paths: string[],
  options: BoundaryDiffOptions,
  changes: Map<string, BoundaryChange>,
): Promise<void> {
  const flags = ["--raw", "--no-abbrev", "--no-renames", "--no-color"];
  // histogram: 2-3x faster than myers on large, busy files (measured on redis); a line it calls
  // changed goes to `git blame`, which decides it exactly, so the algorithm only moves work.
  if (!options.rawOnly) flags.push("-p", "-U0", "--diff-algorithm=histogram", "--no-ext-diff", "--no-textconv");
  const mine = new Map<string, BoundaryChange>();
  const reported = new Set<string>();
  const report = (file: string | undefined): void => {
    const change = file === undefined ? undefined : mine.get(file);
    if (file === undefined || !change || reported.has(file)) return;
    reported.add(file);
    options.onFile?.(file, change, mine.size);
  };
  let file: string | undefined;
  let header = false;
  const args = ["-c", "core.quotePath=false", "diff", ...flags, boundary, head, "--", ...paths.map((p) => `:(literal)${p}`)];
  const result = await runCommand("git", args, {
    cwd: source.dir,
    env: source.env,
    maxOutputBytes: 64 * 1024,
    onStdoutLine: (line) => {
      if (line.startsWith(":")) {
        // git prints every raw line before the first patch.
        const tab = line.indexOf("\t");
        const status = line.slice(1, tab).split(" ")[4] ?? "";
        const change = { status, hunks: [] };
        const path = unquoteGitPath(line.slice(tab + 1));
        mine.set(path, change);
        changes.set(path, change);
      } else if (line.startsWith("diff --git ")) {
        report(file);
        [header, file] = [true, undefined];
      } else if (header && line.startsWith("+++ ")) {
        file = patchNewPath(line);
      } else if (line.startsWith("@@ ")) {
        header = false;
        const m = HUNK.exec(line);
        const change = file === undefined ? undefined : mine.get(file);
        if (m && change) change.hunks.push({ oldCount: Number(m[1] ?? 1), newStart: Number(m[2]), newCount: Number(m[3] ?? 1) });
      }
    },
  });
  if (result.exitCode !== 0) throw new BacklogBotError("COMMAND_FAILED", `git diff failed (${endedHow(result)}): ${result.stderr.trim()}`);
  report(file);
  for (const name of mine.keys()) report(name); // no patch: a mode change, a binary file, or `rawOnly`
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
