import os from "node:os";
import PQueue from "p-queue";
import type { BlameTarget, LineAuthor, LineAuthors } from "./blame-history.js";
import { toIso } from "./blame-history.js";
import { type GitSource, git } from "./git-source.js";

export type { BlameTarget, LineAuthor, LineAuthors };

const NULL_COMMIT = /^0+$/;
const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
/**
 * `git blame` processes at once: twice the core count, at most 8. Each one bounded by `--since`
 * is short (5-15 ms on redis) and spends part of it starting, so twice the cores measured 5-10%
 * faster than the core count on 2 cores, at the same peak memory (about 172 MB for the whole
 * redis scan); unbounded, issue 14 measured 8 x ~170 MB on 2 cores.
 */
const BLAME_CONCURRENCY = Math.min(8, Math.max(2, 2 * os.availableParallelism()));

/** How `blameFiles` runs `git blame`. */
export interface BlameOptions {
  /** `--since`: lines older than this are attributed to the boundary, as `{ before: true, authoredAt: since }`. */
  since?: Date;
  /** Processes at once (default: the core count). */
  concurrency?: number;
  /** Called once per `git blame` started, for the scan's record. */
  onSpawn?: () => void;
}

/** `git blame --incremental` of just `lines` of one file; lines it cannot attribute are left out. */
async function blameFile(source: GitSource, file: string, lines: number[], options: BlameOptions): Promise<Map<number, LineAuthor>> {
  // --root: a root commit is an author like any other, not a boundary (as it is by default).
  const args = ["blame", "--incremental", "--root"];
  if (options.since) args.push(`--since=${options.since.toISOString()}`);
  for (const line of lines) args.push("-L", `${line},${line}`);
  if (source.rev) args.push(source.rev);
  args.push("--", file);
  const found = new Map<number, LineAuthor>();
  options.onSpawn?.();
  const result = await git(source, args).catch(() => undefined);
  if (!result) return found;
  // --incremental prints a commit's headers only the first time it names that commit.
  const commits = new Map<string, { author: string; time: string; boundary: boolean }>();
  let group: { commit: string; final: number; count: number; info: { author: string; time: string; boundary: boolean } } | undefined;
  for (const row of result.stdout.split("\n")) {
    const space = row.indexOf(" ");
    const key = space < 0 ? row : row.slice(0, space);
    const value = row.slice(space + 1);
    if (OBJECT_ID.test(key)) {
      const [, final = "0", count = "0"] = value.split(" ");
      const info = commits.get(key) ?? { author: "", time: "0", boundary: false };
      commits.set(key, info);
      group = { commit: key, final: Number(final), count: Number(count), info };
    } else if (group && key === "author") {
      group.info.author = value;
    } else if (group && key === "author-time") {
      group.info.time = value;
    } else if (group && key === "boundary") {
      group.info.boundary = true;
    } else if (group && key === "filename") {
      if (!NULL_COMMIT.test(group.commit)) {
        const { info, commit } = group;
        // A boundary of `--since` is the newest commit older than the bound, not the line's author.
        const by: LineAuthor =
          info.boundary && options.since
            ? { commit: "", author: "", authoredAt: options.since.toISOString(), before: true }
            : { commit, author: info.author, authoredAt: toIso(info.time), ...(info.boundary && { before: true }) };
        for (let line = group.final; line < group.final + group.count; line++) found.set(line, by);
      }
      group = undefined;
    }
  }
  return found;
}

/** Files blamed as they become known (`blameQueue`). */
export interface BlameQueue {
  /** Starts blaming `file`'s lines as soon as a slot is free. A file added twice is blamed once, for its first lines. */
  add(file: string, target: BlameTarget): void;
  /** Files added so far. */
  readonly size: number;
  /** Resolves, never rejects, once every added file is blamed (lines git could not attribute are absent). */
  done(): Promise<LineAuthors>;
}

/**
 * A pool of `git blame -L` processes (`concurrency` at once, default the core count), fed while
 * other work still runs: a scan adds each file the moment it knows the file needs blame, so
 * blaming overlaps with the diff that finds the rest. Never throws.
 */
export function blameQueue(source: GitSource, options: BlameOptions = {}): BlameQueue {
  const authors: LineAuthors = new Map();
  const queue = new PQueue({ concurrency: options.concurrency ?? BLAME_CONCURRENCY });
  return {
    add(file, target) {
      if (authors.has(file)) return;
      authors.set(file, new Map());
      const wanted = [...new Set(target.lines)].sort((a, b) => a - b);
      queue.add(async () => authors.set(file, await blameFile(source, file, wanted, options))).catch(() => {}); // blameFile does not throw; this only keeps the pool's promise handled
    },
    get size() {
      return authors.size;
    },
    async done() {
      await queue.onIdle();
      return authors;
    },
  };
}

/**
 * Runs `git blame -L` for the given lines of each file (at the source's commit, or its work tree),
 * `concurrency` at a time. Never throws: a file git cannot blame has its lines absent, and a
 * boundary line (shallow clone, or older than `since`) is marked `before`.
 */
export async function blameFiles(source: GitSource, targets: Map<string, BlameTarget>, options: BlameOptions = {}): Promise<LineAuthors> {
  const queue = blameQueue(source, options);
  for (const [file, target] of targets) queue.add(file, target);
  return queue.done();
}

/**
 * The author of one line, by a full `git blame` of that line: for showing a row whose line is
 * older than the history the scan walked (`before`), when its author is wanted after all.
 * Resolves `undefined` when git cannot blame it (uncommitted, file gone).
 */
export async function authorOfLine(source: GitSource, path: string, line: number): Promise<LineAuthor | undefined> {
  return (await blameFiles(source, new Map([[path, { lines: [line] }]]))).get(path)?.get(line);
}
