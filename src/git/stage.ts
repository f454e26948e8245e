import { writeFile } from "node:fs/promises";
import { type GitOptions, git } from "./git.js";

/**
 * Staging a work tree an agent wrote, without git ever looking inside a repository nested in it.
 *
 * `git add --all` checks whether each submodule (an index entry of mode 160000) is dirty by
 * running `git status` inside it, and that child reads the nested repository's own `.git/config`:
 * a filter driver, fsmonitor hook or textconv the agent set there (inside the sandbox) would run
 * on the host. `git add` has no `--ignore-submodules`, and `diff.ignoreSubmodules` does not reach
 * it (checked with git 2.39), so those paths are kept out of its pathspec instead. A repository the
 * agent made in a new folder (`git init x`) would be added as an embedded repository, its HEAD read
 * through a `.git` file that may point anywhere on the host; it is kept out too.
 *
 * The rule that follows, the same everywhere the bot reads a worktree (`changedFiles`, the commit,
 * verify's snapshots): a submodule keeps the commit the index records (the base commit's: the
 * sandbox cannot write the worktree's index), whatever its folder holds, and a nested repository
 * is never part of the change.
 */

/** Entries of the index whose mode is a gitlink (submodules). */
const GITLINK = /^160000 [0-9a-f]+ \d\t(.*)$/;

/** Escapes of git's C-style quoting (`quote_c_style` in git's quote.c) and the bytes they stand for. */
const ESCAPES: Partial<Record<string, number>> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, "\\": 92 };

/**
 * The bytes of a path as git prints it without `-z`: as is, or, when it holds a quote, a backslash,
 * a control character or (with `core.quotePath`, the default) a byte over 0x7f, in double quotes
 * with C escapes and octal bytes (`"caf\303\251"`).
 * @throws Error for a quoted path git would not print (an unknown escape, no closing quote).
 */
export function unquoteGitPath(text: string): Buffer {
  if (!text.startsWith('"')) return Buffer.from(text, "utf8");
  if (text.length < 2 || !text.endsWith('"')) throw new Error(`unbalanced quotes in git's path ${text}`);
  const body = Buffer.from(text.slice(1, -1), "utf8");
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const byte = body[i] as number;
    if (byte !== 0x5c) {
      bytes.push(byte);
      continue;
    }
    const octal = /^[0-3][0-7]{2}/.exec(body.subarray(i + 1, i + 4).toString("latin1"));
    const escaped = ESCAPES[String.fromCharCode(body[i + 1] ?? 0)];
    if (octal) {
      bytes.push(Number.parseInt(octal[0], 8));
      i += 3;
    } else if (escaped !== undefined) {
      bytes.push(escaped);
      i += 1;
    } else {
      throw new Error(`unknown escape in git's path ${text}`);
    }
  }
  return Buffer.from(bytes);
}

/**
 * Paths git must not look inside: the index's gitlinks and the untracked nested repositories
 * (`git ls-files --others` prints them as `dir/`). Read line by line, so a listing as long as the
 * repository is never cut; paths as raw bytes (quoted output, `core.quotePath` on), so a name that
 * is not UTF-8 still matches.
 */
async function nestedRepositories(prefix: readonly string[], options: GitOptions): Promise<Buffer[]> {
  const paths: Buffer[] = [];
  const quoted = ["-c", "core.quotePath=true", ...prefix];
  await git([...quoted, "ls-files", "--stage"], {
    ...options,
    onStdoutLine: (line) => {
      const match = GITLINK.exec(line);
      if (match?.[1] !== undefined) paths.push(unquoteGitPath(match[1]));
    },
  });
  const others: string[] = [];
  await git([...quoted, "ls-files", "--others", "--exclude-standard"], {
    ...options,
    onStdoutLine: (line) => {
      if (line.endsWith("/") || line.endsWith('/"')) others.push(line);
    },
  });
  for (const line of others) {
    const bytes = unquoteGitPath(line);
    paths.push(bytes.subarray(0, bytes.length - 1)); // without the trailing slash
  }
  return paths;
}

/**
 * `git add --all` of the whole work tree into the index git's environment names (`GIT_INDEX_FILE`
 * in `options.env`), except submodules and nested repositories, which git never looks inside (see
 * the rule above): a submodule's entry stays as the index had it; a nested repository is left out.
 * @param prefix - git options before the command (`--git-dir`, `--work-tree`), or none.
 * @param pathspecFile - a path the bot alone can write, for the pathspec list (overwritten; the
 *   caller removes it); a file rather than arguments, so no number of paths overflows the command line.
 * @throws CommandError when git fails; Error when git printed a path it could not have quoted.
 */
export async function addAllFiles(prefix: readonly string[], options: GitOptions, pathspecFile: string): Promise<void> {
  const excluded = await nestedRepositories(prefix, options);
  const nul = Buffer.from([0]);
  const specs = [Buffer.from("."), ...excluded.map((p) => Buffer.concat([Buffer.from(":(exclude,literal)"), p]))];
  await writeFile(pathspecFile, Buffer.concat(specs.flatMap((spec) => [spec, nul])), { mode: 0o600 });
  await git([...prefix, "add", "--all", `--pathspec-from-file=${pathspecFile}`, "--pathspec-file-nul"], options);
}
