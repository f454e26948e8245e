import { BacklogBotError } from "../util/errors.js";
import { endedHow, runCommand } from "../util/exec.js";
import type { FileHistory, LineAuthor } from "./blame-history.js";
import { toIso } from "./blame-history.js";
import { type GitSource, patchNewPath, unquoteGitPath } from "./git-source.js";

/*
 * Reading history from git for the replays of blame-history.ts and blob-walk.ts: `git log` (touches
 * with `--raw`, `-U0` patches with `-p`) over a window, and the patches of chosen commits.
 */

/** How far back, and from where, `readHistory` reads. */
export interface HistoryWindow {
  /** Only commits made at or after this time (committer date, as `git log --since`); absent = all. */
  since?: Date;
  /** Only commits not reachable from this one (`base..rev`): the commits since an earlier scan. */
  base?: string;
  /** Touches only, no patches: for partial clones, whose old blobs are missing and would be fetched one by one. */
  rawOnly?: boolean;
  /**
   * Give up (reject) once git has printed this many lines, killing it: bounds the memory of a
   * read over every file of a very busy repository (a raw line is one touch, about 250 bytes held).
   */
  maxLines?: number;
}

/** Pathspecs per `git log`: keeps the argument list far below the OS limit. */
const PATHS_PER_LOG = 1000;
const HUNK = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/**
 * Feeds on the lines of `git log --raw` and/or `-p -U0` output (header `%x01%H%x00%aN%x00%at%x00%P`):
 * `--raw` lines become touches, hunk headers become hunks. Paths git quotes (a tab, a newline, a
 * double quote in the name) are unquoted, so they match the names git grep listed.
 */
export function historyParser(into: FileHistory): (line: string) => void {
  let current: { by: LineAuthor; root: boolean } | undefined;
  let file: string | undefined;
  let header = false;
  return (line) => {
    if (line.startsWith("\x01")) {
      const [commit = "", author = "", time = "0", parents = ""] = line.slice(1).split("\0");
      current = { by: { commit, author, authoredAt: toIso(time) }, root: parents.trim() === "" };
    } else if (line.startsWith(":") && current) {
      const tab = line.indexOf("\t");
      const [, , oldBlob = "", newBlob = "", status = ""] = line.slice(1, tab).split(" ");
      const path = unquoteGitPath(line.slice(tab + 1));
      const list = into.touches.get(path) ?? [];
      list.push({ ...current, status, oldBlob, newBlob });
      into.touches.set(path, list);
    } else if (line.startsWith("diff --git ")) {
      [header, file] = [true, undefined];
    } else if (header && line.startsWith("+++ ")) {
      file = patchNewPath(line);
    } else if (line.startsWith("@@ ") && current) {
      header = false;
      const m = HUNK.exec(line);
      if (!m || file === undefined) return;
      const key = `${current.by.commit}\0${file}`;
      const hunks = into.hunks.get(key) ?? [];
      hunks.push({ oldCount: Number(m[1] ?? 1), newStart: Number(m[2]), newCount: Number(m[3] ?? 1) });
      into.hunks.set(key, hunks);
    }
  };
}

/**
 * Runs one `git log` over `pathspecs`, streaming its lines into `onLine` (history can be long).
 * No `--topo-order`: it makes git read the whole range before printing anything, and the replay
 * checks the blob chain anyway, so a file whose changes come out of order is merely unresolved.
 */
async function streamLog(
  source: GitSource,
  range: string[],
  pathspecs: string[],
  options: string[],
  onLine: (line: string) => void,
  maxLines = Number.POSITIVE_INFINITY,
): Promise<void> {
  const args = ["-c", "core.quotePath=false", "log", "--no-renames", "--no-color", ...options];
  args.push("--format=%x01%H%x00%aN%x00%at%x00%P", ...range, "--", ...pathspecs);
  const stop = new AbortController();
  let lines = 0;
  const result = await runCommand("git", args, {
    cwd: source.dir,
    env: source.env,
    maxOutputBytes: 64 * 1024,
    signal: stop.signal,
    onStdoutLine: (line) => {
      if (++lines > maxLines) stop.abort();
      else onLine(line);
    },
  });
  if (lines > maxLines) throw new BacklogBotError("COMMAND_FAILED", `git log printed more than ${maxLines} lines: stopped`);
  if (result.exitCode !== 0) throw new BacklogBotError("COMMAND_FAILED", `git log failed (${endedHow(result)}): ${result.stderr.trim()}`);
}

/** Up to this many paths are named one by one; more are named by their directories. */
const MAX_FILE_PATHSPECS = 50;
/** Directories named instead are cut at the deepest level that keeps them this few. */
const MAX_DIR_PATHSPECS = 32;

/**
 * Pathspecs for a `git log` over `paths`. git matches every pathspec against every changed tree
 * entry of every commit, so hundreds of literal paths cost more than the history itself (measured
 * on the built bench repository: 3.8 s for 300 paths against 0.4 s for their one directory). Many
 * paths are therefore named by directories, as deep as keeps them at most `MAX_DIR_PATHSPECS`
 * (on renovate, 369 paths: their 147 parent directories took 1.36 s of `git log -p`, their 10
 * directories two levels deep 1.02 s, `lib/` alone 0.99 s); the touches of other files there are
 * read and ignored. A file at a level above the cut is named itself.
 */
export function logPathspecs(paths: readonly string[]): string[] {
  if (paths.length <= MAX_FILE_PATHSPECS) return paths.map((p) => `:(literal)${p}`);
  const cut = (depth: number) =>
    new Set(
      paths.map((p) => {
        const parts = p.split("/");
        return parts.length > depth ? `${parts.slice(0, depth).join("/")}/` : p;
      }),
    );
  let specs = cut(1);
  for (let depth = 2; ; depth++) {
    const deeper = cut(depth);
    // Ends: at the deepest level every path is itself, and there are more than MAX_FILE_PATHSPECS of them.
    if (deeper.size > MAX_DIR_PATHSPECS) break;
    specs = deeper;
  }
  return [...specs].map((d) => `:(literal)${d}`);
}

/** Up to this many paths, one `git log` prints both touches and patches: creations print whole files, but spawning costs more. */
const ONE_PROCESS_PATHS = 50;
const PATCH_OPTIONS = ["-p", "-U0", "--diff-algorithm=myers", "--no-ext-diff", "--no-textconv"];

/**
 * Reads the history of `paths` (undefined: every file) at `rev` within `window`, so that
 * `walkFile` can replay it: one `git log` for a few paths, else two per 1,000 paths (touches, and
 * the patches of modifications only, so files' creations are not printed whole).
 * @throws Error when git fails.
 */
export async function readHistory(
  source: GitSource,
  rev: string,
  paths: string[] | undefined,
  window: HistoryWindow = {},
): Promise<FileHistory> {
  const history: FileHistory = { touches: new Map(), hunks: new Map() };
  const parse = historyParser(history);
  // `^{commit}`: git log of a tree prints nothing and succeeds, which would read as "no changes".
  const range = [...(window.since ? [`--since=${window.since.toISOString()}`] : []), `${rev}^{commit}`];
  if (window.base) range.push(`^${window.base}`);
  const specs = paths ? logPathspecs(paths) : [];
  for (let i = 0; i === 0 || i < specs.length; i += PATHS_PER_LOG) {
    const pathspecs = specs.slice(i, i + PATHS_PER_LOG);
    if (window.rawOnly) {
      await streamLog(source, range, pathspecs, ["--raw", "--no-abbrev"], parse, window.maxLines);
    } else if (paths && paths.length <= ONE_PROCESS_PATHS) {
      await streamLog(source, range, pathspecs, ["--raw", "--no-abbrev", ...PATCH_OPTIONS], parse);
    } else {
      // Two parsers: the two outputs interleave, and each tracks its own current commit.
      await Promise.all([
        streamLog(source, range, pathspecs, ["--raw", "--no-abbrev"], parse),
        streamLog(source, range, pathspecs, [...PATCH_OPTIONS, "--diff-filter=M"], historyParser(history)),
      ]);
    }
  }
  return history;
}

/**
 * The `-U0` patches of `paths` in each of `commits` against its first parent, from one `git
 * diff-tree --stdin` (diffed with myers, as `git blame` does), keyed as `readHistory`'s.
 * @throws BacklogBotError `COMMAND_FAILED` when git fails.
 */
export async function readCommitPatches(source: GitSource, commits: string[], paths: string[]): Promise<FileHistory> {
  const history: FileHistory = { touches: new Map(), hunks: new Map() };
  if (commits.length === 0) return history;
  const args = ["-c", "core.quotePath=false", "diff-tree", "--stdin", "-r", "-p", "-U0", "--no-renames", "--no-color"];
  args.push(
    "--diff-algorithm=myers",
    "--no-ext-diff",
    "--no-textconv",
    "--format=%x01%H%x00%aN%x00%at%x00%P",
    "--",
    ...paths.map((p) => `:(literal)${p}`),
  );
  const result = await runCommand("git", args, {
    cwd: source.dir,
    env: source.env,
    input: `${commits.join("\n")}\n`,
    maxOutputBytes: 64 * 1024,
    onStdoutLine: historyParser(history),
  });
  if (result.exitCode !== 0)
    throw new BacklogBotError("COMMAND_FAILED", `git diff-tree failed (${endedHow(result)}): ${result.stderr.trim()}`);
  return history;
}
