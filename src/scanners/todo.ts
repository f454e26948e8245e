import { createHash } from "node:crypto";
import picomatch from "picomatch";
import { type BlameTarget, blameLines, historyOfCommit, type LineAuthor, probeHistory, readHistory } from "./blame.js";
import { readCandidateFiles } from "./candidate-files.js";
import { hasNoExtension, syntaxForPath, syntaxForShebang } from "./comment-syntax.js";
import { type GitSource, openGitSource, provisionalGitSource } from "./git-source.js";
import { extractTodos, looksMinified, markerPattern, type TodoHit } from "./todo-extract.js";
import type { Finding, FindingSignals, ScanResult } from "./types.js";

/** What `scanTodos` scans and how. */
export interface TodoScanOptions {
  /** A git work tree (its top directory) OR a bare repository (e.g. a `git clone --mirror`). */
  cwd: string;
  /** Scan this commit or tree instead of the work tree. A bare repository without it scans HEAD. */
  rev?: string;
  /** Scan only these repo-relative paths (incremental push scan); absent = whole repo. Deleted paths are fine. */
  paths?: string[];
  /** Markers, matched case-sensitively as whole words. Default `DEFAULT_KEYWORDS`. */
  keywords?: string[];
  /** picomatch globs of repo-relative paths to skip, on top of `DEFAULT_EXCLUDES`. */
  exclude?: string[];
  /** Attribute each finding with `git blame` (`signals.author`, `signals.authoredAt`). Default true. */
  blame?: boolean;
}

/** The signals of a TODO finding: the common ones plus the owner named in `TODO(owner)`. */
export interface TodoSignals extends FindingSignals {
  owner?: string;
}

/** The markers scanned for when the config names none (JasonEtco/todo's set plus BUG). */
export const DEFAULT_KEYWORDS: readonly string[] = ["TODO", "FIXME", "HACK", "XXX", "BUG"];

/** Vendored, generated and lock files, never scanned (git pathspecs, so git grep does not even read them). */
export const DEFAULT_EXCLUDES: readonly string[] = [
  "**/node_modules/**",
  "**/vendor/**",
  "**/third_party/**",
  "**/dist/**",
  "**/build/**",
  "**/*.min.js",
  "**/*.min.mjs",
  "**/*.min.css",
  "**/*.map",
  "**/*.lock",
  "**/package-lock.json",
  "**/npm-shrinkwrap.json",
  "**/pnpm-lock.yaml",
  "**/go.sum",
];

/** Files above this size (bytes) are data or generated code, not worth lexing. */
const MAX_FILE_BYTES = 2 * 1024 * 1024;
/** A longer `paths` list is filtered after a whole-repository grep instead of passed as pathspecs (argument limits). */
const MAX_PATHSPECS = 1000;
const TITLE_LENGTH = 120;
/** Up to this many `paths` are read (with their history) while git grep runs, instead of after. */
const MAX_PREFETCH = 50;

/** A TODO's text as the fingerprint sees it: runs of whitespace are one space. */
function normalise(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Stable across moves within the file: nothing here depends on the line. */
function fingerprint(path: string, marker: string, text: string, occurrence: number): string {
  return createHash("sha1").update(`todo\0${path}\0${marker}\0${text}\0${occurrence}`).digest("hex");
}

function title(hit: TodoHit): string {
  const text = hit.text.replace(/\s+/g, " ") || hit.marker;
  return text.length > TITLE_LENGTH ? `${text.slice(0, TITLE_LENGTH - 1)}…` : text;
}

/**
 * Scans a repository (work tree, or a commit with `rev`) for TODO-style markers inside comments.
 * `git grep` finds the files that mention a marker at all; only those are read and lexed, and
 * blame runs only for the lines found. Returns findings of kind `todo`, ordered by path and line,
 * with a fingerprint that survives the TODO moving within its file (path, marker, text, and the
 * index among identical TODOs of that file), and a scope of `{ kinds: ["todo"], paths: options.paths }`.
 * @throws BacklogBotError `NOT_A_GIT_REPOSITORY` when `cwd` is not a work tree top or git directory.
 * @throws CommandError when `rev` names no commit or tree, or git fails.
 */
export async function scanTodos(options: TodoScanOptions): Promise<ScanResult> {
  const keywords = [...new Set(options.keywords ?? DEFAULT_KEYWORDS)].filter((k) => k.trim() && !k.includes("\n"));
  if (keywords.length === 0 || options.paths?.length === 0) {
    await openGitSource(options.cwd, options.rev);
    return { findings: [], scope: { kinds: ["todo"], paths: options.paths } };
  }
  // A push scan names its commit by id: spawning dominates such a small scan, so the repository
  // is not verified up front; a failure is explained by verifying it then.
  const early = provisionalGitSource(options.cwd, options.rev);
  if (!early) return scanSource(await openGitSource(options.cwd, options.rev), options, keywords);
  try {
    return await scanSource(early, options, keywords);
  } catch (error) {
    await openGitSource(options.cwd, options.rev); // throws NOT_A_GIT_REPOSITORY, or a clearer error about `rev`
    throw error;
  }
}

/**
 * `scanTodos` once the source is known. A provisional source (an object id not yet verified)
 * may turn out to be a tree: its history commands then fail, which leaves findings unattributed.
 */
async function scanSource(source: GitSource, options: TodoScanOptions, keywords: string[]): Promise<ScanResult> {
  const only = options.paths && options.paths.length > MAX_PATHSPECS ? new Set(options.paths) : undefined;
  const include = options.paths && !only ? options.paths.map((p) => `:(literal)${p}`) : [];
  const excluded = options.exclude?.length ? picomatch(options.exclude, { dot: true }) : () => false;
  // A push scan knows its few paths up front: read them and their history while git grep runs.
  // Spawning dominates such a small scan, so a commit scan then skips the probe: the replay covers it.
  const prefetch = options.paths && options.paths.length <= MAX_PREFETCH ? options.paths : undefined;
  const blame = options.blame !== false;
  const fileHistory = blame && prefetch ? readHistory(source, source.rev ?? "HEAD", prefetch).catch(() => undefined) : undefined;
  const history = !blame ? undefined : fileHistory && source.rev ? Promise.resolve(historyOfCommit(source)) : probeHistory(source);
  const pattern = markerPattern(keywords);
  const hits = new Map<string, TodoHit[]>();
  // Kept as thunks: blob ids only matter when blame replays a history longer than one commit.
  const blobIds = new Map<string, () => string>();
  await readCandidateFiles(source, {
    pattern: keywords.map((k) => k.replace(/[.[\]()*+?{}|^$\\]/g, "\\$&")).join("|"),
    pathspecs: [...include, ...DEFAULT_EXCLUDES.map((glob) => `:(exclude,glob)${glob}`)],
    accept: (p) => (!only || only.has(p)) && !excluded(p) && (syntaxForPath(p) !== undefined || hasNoExtension(p)),
    maxBytes: MAX_FILE_BYTES,
    prefetch,
    onFile: (path, text, blobId) => {
      const syntax = syntaxForPath(path) ?? syntaxForShebang(text.slice(0, 200).split("\n")[0] ?? "");
      if (!syntax || looksMinified(text)) return;
      const found = extractTodos(text, syntax, pattern);
      if (found.length === 0) return;
      hits.set(path, found);
      blobIds.set(path, blobId);
    },
  });

  const paths = [...hits.keys()].sort();
  const facts = history && source.hasHistory ? await history : undefined;
  const targets = new Map<string, BlameTarget>();
  for (const path of paths) {
    const lines = (hits.get(path) ?? []).map((h) => h.line);
    const replayable = facts && !facts.none && !facts.onlyCommit && !facts.changed.has(path);
    targets.set(path, replayable ? { lines, blob: blobIds.get(path)?.() } : { lines });
  }
  const authors = facts ? await blameLines(source, targets, facts, fileHistory) : new Map<string, Map<number, LineAuthor>>();
  const findings: Finding[] = [];
  for (const path of paths) {
    const occurrences = new Map<string, number>();
    for (const hit of hits.get(path) ?? []) {
      const text = normalise(hit.text);
      const key = `${hit.marker}\0${text}`;
      const occurrence = occurrences.get(key) ?? 0;
      occurrences.set(key, occurrence + 1);
      const by = authors.get(path)?.get(hit.line);
      const signals: TodoSignals = {
        marker: hit.marker,
        ...(hit.owner && { owner: hit.owner }),
        ...(by && { author: by.author, authoredAt: by.authoredAt }),
      };
      findings.push({
        kind: "todo",
        fingerprint: fingerprint(path, hit.marker, text, occurrence),
        title: title(hit),
        ...(hit.body ? { body: hit.body } : {}),
        path,
        line: hit.line,
        signals,
      });
    }
  }
  return { findings, scope: { kinds: ["todo"], paths: options.paths } };
}
