import { createHash } from "node:crypto";
import { closeSync, constants, openSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { CommandError, endedHow } from "../util/exec.js";
import { blobReader } from "./blob-reader.js";
import { type GitSource, git } from "./git-source.js";

/** What to do with the files `git grep` lists. */
export interface CandidateOptions {
  /** An extended regular expression; a file is a candidate when it matches it as a whole word. */
  pattern: string;
  pathspecs: string[];
  /** Whether a listed repo-relative path is worth reading at all. */
  accept: (path: string) => boolean;
  /** Files larger than this (bytes) are not read. */
  maxBytes: number;
  /**
   * Called once per file read, in no promised order, with its bytes as a Latin-1 string (one
   * character per byte: decoding is a copy, and every delimiter the lexer looks for is ASCII;
   * decode the few slices you keep as UTF-8). `blobId` gives the file's git object id (SHA-1),
   * computed on demand for work-tree files; call it before `onFile` returns.
   */
  onFile: (path: string, text: string, blobId: () => string) => void;
}

interface Reader {
  add(path: string): void;
  /** Resolves once every added file was handed to `onFile`; rejects with the first error. */
  close(): Promise<void>;
}

/** The id git gives `content` as a blob (SHA-1 object format). */
function blobIdOf(content: Buffer): string {
  return createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");
}

/**
 * Reads work-tree files synchronously, as git names them. Deliberate: the files were just read
 * by git grep, so they are in the page cache and each read takes microseconds, while the
 * asynchronous forms cost a thread-pool round trip (or several) per file, which measured slower.
 */
function workTreeReader(root: string, options: CandidateOptions): Reader {
  let failure: unknown;
  return {
    add: (rel) => {
      if (failure) return;
      let buffer: Buffer;
      try {
        // O_NOFOLLOW: a path that became a symbolic link is not followed out of the work tree.
        const fd = openSync(path.join(root, rel), constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          buffer = readFileSync(fd);
        } finally {
          closeSync(fd);
        }
      } catch {
        return; // deleted since git listed it, or now a link: nothing to scan
      }
      try {
        if (buffer.length <= options.maxBytes) options.onFile(rel, buffer.toString("latin1"), () => blobIdOf(buffer));
      } catch (error) {
        failure = error;
      }
    },
    close: async () => {
      if (failure) throw failure;
    },
  };
}

/** Reads blobs of one commit through a single `git cat-file --batch` (blob-reader.ts), fed while `git grep` still runs. */
function commitReader(source: GitSource, options: CandidateOptions): Reader {
  const reader = blobReader(source);
  const reads: Promise<void>[] = [];
  const lookups: Promise<unknown>[] = [];
  let failure: unknown;
  /** cat-file reads one name per line: a path with a newline is looked up by its blob id instead (undefined: not there). */
  const nameOf = (rel: string): string | Promise<string | undefined> => {
    if (!rel.includes("\n")) return `${source.rev}:${rel}`;
    const oid = git(source, ["rev-parse", "--verify", "--quiet", `${source.rev}:${rel}`], { okCodes: [0, 1] }).then(
      (r) => r.stdout.trim() || undefined,
    );
    lookups.push(oid.catch(() => undefined));
    return oid;
  };
  return {
    add: (rel) => {
      const read = Promise.resolve(nameOf(rel))
        .then((name) => (name ? reader.get(name) : undefined))
        .then((blob) => {
          if (blob && blob.bytes.length <= options.maxBytes && !failure) options.onFile(rel, blob.bytes.toString("latin1"), () => blob.oid);
        });
      // Kept for close, never an unhandled rejection.
      reads.push(
        read.catch((error: unknown) => {
          failure ??= error;
        }),
      );
    },
    close: async () => {
      await Promise.all(lookups); // their reads are asked for before the session ends
      const ok = await reader.close();
      await Promise.all(reads);
      if (failure) throw failure;
      if (!ok) throw new CommandError("git", undefined, "git cat-file --batch failed");
    },
  };
}

/**
 * git grep's threads: one core is left to this process, which reads and lexes each file as git
 * names it. On redis (2 cores) one thread took 19 ms of CPU against 23 ms for two, in less time.
 */
const GREP_THREADS = Math.max(1, os.availableParallelism() - 1);

/** Runs `git grep -l` and calls `onName` with each repo-relative path as git prints it. */
async function grepNames(source: GitSource, options: CandidateOptions, onName: (path: string) => void): Promise<void> {
  const args = ["-c", `grep.threads=${GREP_THREADS}`, "grep", "-l", "-z", "-I", "-w", "-E", "-e", options.pattern];
  if (source.rev) args.push(source.rev);
  args.push("--", ...options.pathspecs);
  const prefix = source.rev ? `${source.rev}:` : "";
  const grep = execa("git", args, { cwd: source.dir, env: source.env, extendEnv: false, buffer: false, reject: false, stdin: "ignore" });
  let stderr = "";
  grep.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-2000);
  });
  let pending: Buffer = Buffer.alloc(0);
  grep.stdout?.on("data", (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (let nul = pending.indexOf(0); nul >= 0; nul = pending.indexOf(0)) {
      const name = pending.subarray(0, nul).toString("utf8");
      pending = pending.subarray(nul + 1);
      onName(name.startsWith(prefix) ? name.slice(prefix.length) : name);
    }
  });
  const outcome = await grep;
  if (outcome.exitCode !== 0 && outcome.exitCode !== 1) {
    const how = endedHow({
      exitCode: outcome.exitCode ?? null,
      signal: outcome.signal ?? null,
      timedOut: outcome.timedOut,
      durationMs: outcome.durationMs,
    });
    throw new CommandError("git", undefined, `git grep failed (${how}): ${stderr.trim()}`);
  }
}

/**
 * Lists the tracked, non-binary files (`git grep -l -I -w -E`) of the scanned commit or work tree
 * that match `options.pattern`, and hands each accepted one to `options.onFile`. Reading overlaps
 * with the grep: each file is read as soon as git names it or, with `prefetch` (a short list of
 * paths known in advance, as in a push scan), all of those are read while git grep runs, and only
 * the ones it lists are passed on. git stops reading a file at its first match, which is why this
 * is cheaper than listing every matching line.
 * @throws CommandError when git grep fails (exit code above 1) or a blob cannot be read.
 */
export async function readCandidateFiles(
  source: GitSource,
  options: CandidateOptions & { prefetch?: readonly string[]; grep?: boolean },
): Promise<void> {
  if (options.prefetch && options.grep === false) return readListed(source, options, options.prefetch);
  const early = new Map<string, { text: string; blobId: () => string }>();
  const onFile = options.prefetch ? (rel: string, text: string, blobId: () => string) => early.set(rel, { text, blobId }) : options.onFile;
  const readerOptions = { ...options, onFile };
  const reader = source.rev ? commitReader(source, readerOptions) : workTreeReader(source.workTree ?? source.dir, readerOptions);
  const listed: string[] = [];
  const failed = (error: unknown): unknown => error ?? new Error("failed");
  const grepped = grepNames(source, options, (rel) => {
    if (!options.accept(rel)) return;
    if (options.prefetch) listed.push(rel);
    else reader.add(rel);
  }).then(() => undefined, failed);
  // After git grep has started, so reading the known paths overlaps with it.
  for (const rel of options.prefetch ?? []) if (options.accept(rel)) reader.add(rel);
  const grepError = await grepped;
  // Always drain the reader, so no git child outlives the scan, then report the first failure.
  const readError = await reader.close().then(() => undefined, failed);
  if (grepError || readError) throw grepError ?? readError;
  for (const rel of listed) {
    const file = early.get(rel);
    if (file) options.onFile(rel, file.text, file.blobId);
  }
}

/** Where git decides a file is binary (`git grep -I`, xdiff's buffer_is_binary): a NUL in its first 8,000 bytes. */
const BINARY_SNIFF_BYTES = 8000;

/**
 * Reads exactly `paths` (those `accept` takes) without `git grep`, skipping binary ones as
 * `git grep -I` would (attributes aside): for a push scan's few paths, one process fewer, since the
 * files must be read anyway. Missing paths (deleted) are skipped.
 * @throws CommandError when a blob cannot be read.
 */
async function readListed(source: GitSource, options: CandidateOptions, paths: readonly string[]): Promise<void> {
  const onFile = (rel: string, text: string, blobId: () => string): void => {
    if (!text.slice(0, BINARY_SNIFF_BYTES).includes("\0")) options.onFile(rel, text, blobId);
  };
  const reader = source.rev
    ? commitReader(source, { ...options, onFile })
    : workTreeReader(source.workTree ?? source.dir, { ...options, onFile });
  for (const rel of paths) if (options.accept(rel)) reader.add(rel);
  await reader.close();
}
