import { type GitSource, git } from "./git-source.js";

/**
 * Who last wrote a line, as `git blame` reports it (mailmap applied). With `before`, the line is
 * older than the history that was walked: `authoredAt` is then an upper bound (the line was last
 * changed at or before it) and `commit`/`author` may be empty, to be resolved lazily if shown.
 */
export interface LineAuthor {
  commit: string;
  author: string;
  /** Author time, ISO 8601 in UTC (an upper bound when `before`). */
  authoredAt: string;
  before?: boolean;
}

/** Repo-relative path -> 1-based line -> author. Lines git could not attribute (uncommitted) are absent. */
export type LineAuthors = Map<string, Map<number, LineAuthor>>;

/** What to attribute in one file: its lines, and its blob id in the scanned version when known. */
export interface BlameTarget {
  lines: number[];
  blob?: string;
}

/** One commit's change to one file (`git log --raw`). */
export interface Touch {
  by: LineAuthor;
  root: boolean;
  status: string;
  oldBlob: string;
  newBlob: string;
}

/** One `-U0` hunk: the counts and where it starts in the newer version. */
export interface Hunk {
  oldCount: number;
  newStart: number;
  newCount: number;
}

/** The raw history of some files: their touches (newest first) and the hunks of their modifications. */
export interface FileHistory {
  touches: Map<string, Touch[]>;
  hunks: Map<string, Hunk[]>;
}

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** Epoch seconds (as git prints them) to ISO 8601 UTC. */
export function toIso(epochSeconds: string): string {
  return new Date(Number(epochSeconds) * 1000).toISOString();
}

/** The line's number before the change (`-U0` hunks, in order), or `undefined` when the change added it. */
export function lineBefore(line: number, hunks: Hunk[]): number | undefined {
  let shift = 0;
  for (const h of hunks) {
    if (h.newCount > 0 && line >= h.newStart && line < h.newStart + h.newCount) return undefined;
    if (line < (h.newCount === 0 ? h.newStart + 1 : h.newStart + h.newCount)) break;
    shift += h.oldCount - h.newCount;
  }
  return line + shift;
}

/** Attribution already known for an earlier version (blob) of a file: its line -> author, or undefined. */
export type KnownVersion = (path: string, blob: string) => Map<number, LineAuthor> | undefined;

/** How one file's replay ended. */
export type WalkEnd =
  /** Every line attributed (`createdBy`: the commit that added the file, to check it was no rename). */
  | { kind: "done"; found: Map<number, LineAuthor>; createdBy?: string }
  /** The read history ended with lines still open: they are older than what was read. */
  | { kind: "exhausted"; found: Map<number, LineAuthor>; open: number[]; blob: string }
  /** Not a simple chain (a merge changed the file, a rename, a missing patch): ask `git blame`. */
  | { kind: "broken" };

/**
 * Follows one file back through its changes, as blame does for a linear history, newest first.
 * Gives up unless each change's result is exactly the blob the next newer change started from. A
 * version whose attribution is `known` (an earlier scan's) ends the walk: the open lines map onto it.
 */
export function walkFile(file: string, target: BlameTarget, touches: Touch[], hunks: Map<string, Hunk[]>, known?: KnownVersion): WalkEnd {
  const found = new Map<number, LineAuthor>();
  let expected = target.blob;
  let open = target.lines.map((line) => ({ line, at: line }));
  const fromKnown = (blob: string): boolean => {
    const lines = known?.(file, blob);
    if (!lines || !open.every((entry) => lines.has(entry.at))) return false;
    for (const entry of open) found.set(entry.line, lines.get(entry.at) as LineAuthor);
    return true;
  };
  for (const touch of touches) {
    if (!expected || touch.newBlob !== expected) return { kind: "broken" };
    if (touch !== touches[0] && fromKnown(expected)) return { kind: "done", found };
    if (touch.status === "A") {
      for (const { line } of open) found.set(line, touch.by);
      return { kind: "done", found, createdBy: touch.root ? undefined : touch.by.commit };
    }
    const changes = hunks.get(`${touch.by.commit}\0${file}`);
    if (touch.status !== "M" || !changes) return { kind: "broken" };
    open = open.filter((entry) => {
      const before = lineBefore(entry.at, changes);
      if (before === undefined) found.set(entry.line, touch.by);
      else entry.at = before;
      return before !== undefined;
    });
    if (open.length === 0) return { kind: "done", found };
    expected = touch.oldBlob;
  }
  if (!expected) return { kind: "broken" };
  if (touches.length > 0 && fromKnown(expected)) return { kind: "done", found };
  return { kind: "exhausted", found, open: open.map((e) => e.line), blob: expected };
}

/**
 * Of the files `created` (path -> the commit that added it), those it truly added: blame would
 * follow a rename or copy to older commits. One `git diff-tree -M` for all of them.
 * @throws CommandError when git fails.
 */
export async function trulyAdded(source: GitSource, created: Map<string, string>): Promise<Set<string>> {
  const ids = [...new Set(created.values())];
  const added = new Set<string>();
  if (ids.length === 0) return added;
  const diff = await git(source, ["diff-tree", "--stdin", "-r", "-M", "--name-status", "-z"], { input: `${ids.join("\n")}\n` });
  let commit = "";
  const tokens = diff.stdout.split("\0");
  for (let i = 0; i < tokens.length; i++) {
    const token = (tokens[i] ?? "").trim();
    if (OBJECT_ID.test(token)) commit = token;
    else if (token === "A" && created.get(tokens[i + 1] ?? "") === commit) added.add(tokens[++i] ?? "");
    else i += token.startsWith("R") || token.startsWith("C") ? 2 : 1;
  }
  return added;
}
