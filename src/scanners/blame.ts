import os from "node:os";
import { attributeFromHistory, type BlameTarget, type FileHistory, type LineAuthor, type LineAuthors, toIso } from "./blame-history.js";
import { type GitSource, git } from "./git-source.js";

export { readHistory } from "./blame-history.js";
export type { BlameTarget, FileHistory, LineAuthor, LineAuthors };

const NULL_COMMIT = /^0+$/;
const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
/** `git blame` processes at once: each is short and mostly start-up, so more than the core count pays. */
const BLAME_CONCURRENCY = Math.max(4, 2 * os.availableParallelism());

/** Facts about history that do not depend on which files have TODOs, so they can be gathered while git grep runs. */
export interface HistoryProbe {
  /** There is no commit to blame against (a tree scan, or a work tree without commits). */
  none: boolean;
  /** Set when the scanned history is one commit: every committed line is that commit's. */
  onlyCommit?: LineAuthor;
  /** Work-tree scan: paths whose content differs from HEAD (staged or not), whose lines may be uncommitted. */
  changed: Set<string>;
}

/** The probe of a commit scan, known without running git: history if it is a commit, and no work-tree changes. */
export function historyOfCommit(source: GitSource): HistoryProbe {
  return { none: !source.hasHistory, changed: new Set() };
}

/**
 * Gathers a `HistoryProbe` with two cheap git commands (one for a commit scan). Never throws:
 * an unreadable history (no commits yet) means `none`.
 */
export async function probeHistory(source: GitSource): Promise<HistoryProbe> {
  const changed = new Set<string>();
  if (!source.hasHistory) return { none: true, changed };
  try {
    const [head, diff] = await Promise.all([
      git(source, ["log", "--max-count=2", "--format=%H%x00%aN%x00%at", source.rev ?? "HEAD", "--"]),
      // No pathspecs on purpose: matching hundreds of them against every index entry costs more than the diff.
      source.rev ? undefined : git(source, ["diff", "--no-renames", "--name-only", "-z", "HEAD", "--"]),
    ]);
    for (const file of diff?.stdout.split("\0") ?? []) if (file) changed.add(file);
    const commits = head.stdout.split("\n").filter(Boolean);
    const [commit = "", author = "", at = "0"] = (commits[0] ?? "").split("\0");
    return commits.length === 1
      ? { none: false, onlyCommit: { commit, author, authoredAt: toIso(at) }, changed }
      : { none: false, changed };
  } catch {
    return { none: true, changed };
  }
}

/** `git blame --incremental` of just `lines` of one file; lines it cannot attribute are left out. */
async function blameFile(source: GitSource, file: string, lines: number[]): Promise<Map<number, LineAuthor>> {
  const args = ["blame", "--incremental"];
  for (const line of lines) args.push("-L", `${line},${line}`);
  if (source.rev) args.push(source.rev);
  args.push("--", file);
  const found = new Map<number, LineAuthor>();
  const result = await git(source, args).catch(() => undefined);
  if (!result) return found;
  // --incremental prints a commit's author headers only the first time it names that commit.
  const commits = new Map<string, { author: string; time: string }>();
  let group: { commit: string; final: number; count: number; info: { author: string; time: string } } | undefined;
  for (const row of result.stdout.split("\n")) {
    const space = row.indexOf(" ");
    const key = row.slice(0, space);
    const value = row.slice(space + 1);
    if (OBJECT_ID.test(key)) {
      const [, final = "0", count = "0"] = value.split(" ");
      const info = commits.get(key) ?? { author: "", time: "0" };
      commits.set(key, info);
      group = { commit: key, final: Number(final), count: Number(count), info };
    } else if (group && key === "author") {
      group.info.author = value;
    } else if (group && key === "author-time") {
      group.info.time = value;
    } else if (group && key === "filename") {
      if (!NULL_COMMIT.test(group.commit)) {
        const by = { commit: group.commit, author: group.info.author, authoredAt: toIso(group.info.time) };
        for (let line = group.final; line < group.final + group.count; line++) found.set(line, by);
      }
      group = undefined;
    }
  }
  return found;
}

/**
 * Attributes the given lines of each file (repo-relative path -> 1-based lines, plus the file's
 * blob id when known) to the commit and author that last changed them, as `git blame` would, for
 * the source's commit or its work tree. In order of cost: a one-commit history needs nothing more;
 * files with a simple history are replayed from one or two `git log` processes (blame-history.ts);
 * the rest, and work-tree files with uncommitted changes, get one `git blame` each, a few at a
 * time. Pass the `probe` (`probeHistory`) and, when the paths were known early, the `history`
 * (`readHistory` of a superset of the target paths) started earlier, to overlap them with other work.
 * Never throws: a file git cannot blame (uncommitted, outside history) has its lines absent.
 */
export async function blameLines(
  source: GitSource,
  targets: Map<string, BlameTarget>,
  probe?: HistoryProbe,
  history?: Promise<FileHistory | undefined>,
): Promise<LineAuthors> {
  const facts = probe ?? (await probeHistory(source));
  if (facts.none || targets.size === 0) return new Map();
  const toBlame = [...targets.keys()].filter((p) => facts.changed.has(p));
  const committed = new Map([...targets].filter(([p]) => !facts.changed.has(p)));
  let authors: LineAuthors = new Map();
  if (facts.onlyCommit) {
    const by = facts.onlyCommit;
    for (const [file, target] of committed) authors.set(file, new Map(target.lines.map((line) => [line, by])));
  } else if (committed.size > 0) {
    try {
      const replayed = await attributeFromHistory(source, source.rev ?? "HEAD", committed, await history);
      authors = replayed.authors;
      toBlame.push(...replayed.unresolved);
    } catch {
      toBlame.push(...committed.keys()); // blame can still answer what the replay could not
    }
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < toBlame.length; i = next++) {
      const file = toBlame[i] as string;
      const wanted = [...new Set(targets.get(file)?.lines)].sort((a, b) => a - b);
      authors.set(file, await blameFile(source, file, wanted));
    }
  };
  await Promise.all(Array.from({ length: BLAME_CONCURRENCY }, worker));
  return authors;
}
