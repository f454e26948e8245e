import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BacklogBotError } from "../util/errors.js";
import { baseEnv, CommandError, type ExecResult, endedHow, runCommand } from "../util/exec.js";

/** Output cap (bytes) for git commands whose whole output is parsed (file lists, logs). */
const MAX_LIST_BYTES = 256 * 1024 * 1024;

/** A repository opened for scanning: where to run git and what to read. */
export interface GitSource {
  /** Where git commands run: the top of the work tree, or the git directory of a bare repository. */
  dir: string;
  /** The work tree's top directory; `undefined` for a bare repository. */
  workTree: string | undefined;
  /** The commit (or tree) being scanned, as an object id; `undefined` means the work tree. */
  rev: string | undefined;
  /** Whether `rev` is a commit (so it has history to blame). Always true for a work-tree scan. */
  hasHistory: boolean;
  env: Record<string, string>;
}

let privateHome: string | undefined;

/**
 * The environment of every git child of the scanner: no user or system config (so a
 * developer's `grep.*` or `blame.*` settings cannot change results), no optional locks, and no
 * discovery above `cwd`, so a plain directory inside some other repository is not mistaken for it.
 * HOME is a directory of this process's own (mode 0700): a fixed path in the shared temp dir let
 * any local user plant a `.gitconfig` (`core.fsmonitor`) that ran as whoever scanned.
 */
export function scannerGitEnv(cwd: string): Record<string, string> {
  privateHome ??= mkdtempSync(path.join(os.tmpdir(), "backlog-bot-git-home-"));
  return {
    ...baseEnv(),
    HOME: privateHome,
    XDG_CONFIG_HOME: privateHome,
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_OPTIONAL_LOCKS: "0",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CEILING_DIRECTORIES: path.dirname(cwd),
  };
}

/**
 * Runs git in the source's directory.
 * @throws CommandError when git exits non-zero and `options.okCodes` (default `[0]`) does not list that code.
 */
export async function git(
  source: Pick<GitSource, "dir" | "env">,
  args: string[],
  options: { okCodes?: number[]; input?: string } = {},
): Promise<ExecResult> {
  const { okCodes = [0], input } = options;
  const result = await runCommand("git", args, { cwd: source.dir, env: source.env, maxOutputBytes: MAX_LIST_BYTES, input });
  if (result.exitCode === null || !okCodes.includes(result.exitCode)) {
    throw new CommandError("git", result, `git ${args[0]} failed (${endedHow(result)}): ${result.stderr.trim().slice(-500)}`);
  }
  return result;
}

/** The error for a `cwd` that is no repository top, naming the work tree it sits inside, if any. */
async function explainNotRepo(dir: string, fallback: BacklogBotError): Promise<BacklogBotError> {
  const { GIT_CEILING_DIRECTORIES: _, ...env } = scannerGitEnv(dir);
  const top = await runCommand("git", ["rev-parse", "--show-toplevel"], { cwd: dir, env }).catch(() => undefined);
  const parent = top?.exitCode === 0 ? top.stdout.trim() : "";
  if (!parent) return fallback;
  return new BacklogBotError(
    "NOT_A_GIT_REPOSITORY",
    `${dir} is not a git repository but a directory inside ${parent}: scan ${parent} instead`,
  );
}

/**
 * Opens `cwd` as a work tree (its top directory) or a git directory (a bare repository such as a
 * `git clone --mirror`). `rev` (any commit-ish or tree-ish) selects a commit to scan; a bare
 * repository without `rev` scans HEAD.
 * @throws BacklogBotError `NOT_A_GIT_REPOSITORY` when `cwd` is neither (also for a subdirectory of
 *   a work tree: the message names the top to scan instead).
 * @throws CommandError when `rev` does not name a commit or tree.
 */
export async function openGitSource(cwd: string, rev?: string): Promise<GitSource> {
  const dir = path.resolve(cwd);
  const notRepo = new BacklogBotError("NOT_A_GIT_REPOSITORY", `${dir} is not a git repository`);
  try {
    if (!statSync(dir).isDirectory()) throw notRepo;
  } catch {
    throw notRepo;
  }
  const env = scannerGitEnv(dir);
  const wanted = rev ?? "HEAD";
  // One process answers both questions (repository kind, commit id): spawning is the dominant cost of small scans.
  const args = ["rev-parse", "--is-inside-work-tree", "--verify", "--quiet", "--end-of-options", `${wanted}^{commit}`];
  const probe = await runCommand("git", rev === undefined ? args.slice(0, 2) : args, { cwd: dir, env });
  const [kind, commit] = probe.stdout.trim().split("\n");
  if (kind !== "true" && kind !== "false") throw await explainNotRepo(dir, notRepo);
  const workTree = kind === "true" ? dir : undefined;
  if (workTree && rev === undefined) return { dir, workTree, rev: undefined, hasHistory: true, env };
  if (rev === undefined) return openGitSource(dir, "HEAD"); // a bare repository scans HEAD
  if (probe.exitCode === 0 && commit) return { dir, workTree, rev: commit, hasHistory: true, env };
  const tree = await git({ dir, env }, ["rev-parse", "--verify", "--end-of-options", `${wanted}^{tree}`]);
  return { dir, workTree, rev: tree.stdout.trim(), hasHistory: false, env };
}

/**
 * A source for a `rev` that is already a full object id (as push events give), built without
 * running git, so a push scan can start while `openGitSource` verifies the repository in parallel.
 * `undefined` for any other `rev`. Assumes a commit; the verified source says otherwise.
 */
export function provisionalGitSource(cwd: string, rev: string | undefined): GitSource | undefined {
  if (!rev || !/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(rev)) return undefined;
  const dir = path.resolve(cwd);
  return { dir, workTree: undefined, rev, hasHistory: true, env: scannerGitEnv(dir) };
}

/**
 * A work-tree source for a `cwd` that holds a `.git` entry, built without running git: spawning
 * `git rev-parse` costs about as much as the rest of a warm rescan. The scan's first git command
 * (`git status`, or `git grep`) fails on a broken repository; `openGitSource` then explains why.
 * `undefined` when `cwd` has no `.git`.
 */
export function provisionalWorkTree(cwd: string): GitSource | undefined {
  const dir = path.resolve(cwd);
  if (!existsSync(path.join(dir, ".git"))) return undefined;
  return { dir, workTree: dir, rev: undefined, hasHistory: true, env: scannerGitEnv(dir) };
}

/** What kind of clone a source is: shallow boundary commits, and whether blobs may be missing. */
export interface RepositoryShape {
  /** Commits a shallow clone's history stops at (`<git-dir>/shallow`); empty for a full clone. */
  shallow: Set<string>;
  /** A partial clone (a promisor remote): old blobs are fetched on demand, one by one, if read. */
  partial: boolean;
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/**
 * The shape of the source's repository, read from files of its git directory (no git process):
 * `shallow` lists a shallow clone's boundary commits, and `extensions.partialClone` or a
 * `promisor = true` remote in `config` marks a partial clone.
 */
export function repositoryShape(source: Pick<GitSource, "dir" | "workTree">): RepositoryShape {
  let gitDir = source.workTree ? path.join(source.dir, ".git") : source.dir;
  const pointer = /^gitdir: (.+)$/m.exec(readText(gitDir)); // a linked work tree or submodule: .git is a file
  if (pointer?.[1]) gitDir = path.resolve(source.dir, pointer[1].trim());
  const common = readText(path.join(gitDir, "commondir")).trim();
  const commonDir = common ? path.resolve(gitDir, common) : gitDir;
  const shallow = new Set(readText(path.join(commonDir, "shallow")).split("\n").filter(Boolean));
  const config = readText(path.join(commonDir, "config"));
  return { shallow, partial: /^\s*(?:partialclone\s*=|promisor\s*=\s*true)/im.test(config) };
}

/**
 * A work tree's HEAD commit and its paths with uncommitted changes (staged or not), from one
 * `git status --porcelain=v2` (one process: spawning is most of a warm rescan's cost).
 * `head` is undefined in a repository without commits.
 * @throws CommandError when git fails.
 */
export async function probeWorkTree(source: GitSource): Promise<{ head: string | undefined; dirty: Set<string> }> {
  const args = ["status", "--porcelain=v2", "--branch", "--no-ahead-behind", "-z", "--untracked-files=no", "--no-renames"];
  const status = await git(source, [...args, "--ignore-submodules=all"]);
  let head: string | undefined;
  const dirty = new Set<string>();
  for (const entry of status.stdout.split("\0")) {
    if (entry.startsWith("# branch.oid ")) {
      const oid = entry.slice(13).trim();
      head = /^[0-9a-f]+$/.test(oid) ? oid : undefined; // "(initial)": no commits yet
    } else if (entry.startsWith("1 ") || entry.startsWith("u ")) {
      // "1 XY sub mH mI mW hH hI path" (8 fields) and "u XY sub m1 m2 m3 mW h1 h2 h3 path" (10) before the path.
      const fields = entry.startsWith("1 ") ? 8 : 10;
      let at = 0;
      for (let i = 0; i < fields; i++) at = entry.indexOf(" ", at) + 1;
      dirty.add(entry.slice(at));
    }
  }
  return { head, dirty };
}

/**
 * Paths that differ between two commits (`git diff-tree -r`, no rename detection, so no blob is read).
 * @throws CommandError when either commit is unknown (e.g. gone after a force push and gc).
 */
export async function changedPaths(source: GitSource, from: string, to: string): Promise<string[]> {
  const diff = await git(source, ["diff-tree", "-r", "--no-renames", "--name-only", "-z", from, to, "--"]);
  return diff.stdout.split("\0").filter(Boolean);
}

const C_ESCAPES: Record<string, string> = { a: "\x07", b: "\b", t: "\t", n: "\n", v: "\v", f: "\f", r: "\r", '"': '"', "\\": "\\" };

/**
 * A path as git prints it outside `-z` output, unquoted: a name with a control character, a
 * double quote or a backslash comes in double quotes with C escapes (`"ta\tb.c"`; git's
 * `quote_c_style`). With `core.quotePath=false`, as every scanner command sets it, octal escapes
 * are used only for control bytes, so each stands for one character. Any other text is returned
 * as it is.
 */
export function unquoteGitPath(text: string): string {
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return text;
  return text
    .slice(1, -1)
    .replace(/\\([abtnvfr"\\]|[0-3][0-7]{2})/g, (_, e: string) => C_ESCAPES[e] ?? String.fromCharCode(Number.parseInt(e, 8)));
}

/** The new side's path of a patch's `+++ ` line (`+++ b/x`, or quoted, `+++ "b/x\ty"`); undefined for `/dev/null`. */
export function patchNewPath(line: string): string | undefined {
  const name = unquoteGitPath(line.slice(4));
  return name.startsWith("b/") ? name.slice(2) : undefined;
}
