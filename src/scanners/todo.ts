import picomatch from "picomatch";
import { type AttributionReport, attributeLines, emptyReport } from "./attribution.js";
import { boundaryCommit } from "./attribution-boundary.js";
import { type FileKey, type FileVersion, type ScanCache, type ScanState, scanSettingsKey } from "./attribution-cache.js";
import { attributionHorizon } from "./attribution-horizon.js";
import { type BlameTarget, type FileHistory, type LineAuthor, readHistory } from "./blame-history.js";
import { readCandidateFiles } from "./candidate-files.js";
import { mayHaveShebang, syntaxForPath, syntaxForShebang } from "./comment-syntax.js";
import { changedPaths, type GitSource, openGitSource, probeWorkTree, provisionalGitSource, repositoryShape } from "./git-source.js";
import { extractTodos, looksMinified, markerPattern, type TodoHit, todoFindings } from "./todo-extract.js";
import type { Finding, ScanResult } from "./types.js";

export type { TodoSignals } from "./todo-extract.js";

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
  /** Attribute each finding to the line's author (`signals.author`, `signals.authoredAt`). Default true. */
  blame?: boolean;
  /**
   * Where file versions and the last scan are kept (`src/store/attribution.ts`): an unchanged file
   * is then neither read nor attributed again, and only commits since the last scan are replayed.
   * Absent: nothing is reused.
   */
  cache?: ScanCache;
  /** The scan's clock, which places the history horizon (`attributionHorizon`). Default: the current time. */
  now?: Date;
  /** Called as the scan advances (files read so far, then files to attribute), for a progress line. */
  onProgress?: (progress: TodoScanProgress) => void;
}

/** How far a scan has come. */
export interface TodoScanProgress {
  phase: "reading" | "attributing";
  /** Files read (reading) or to attribute (attributing). */
  files: number;
}

/** A TODO scan's result: the findings and scope, plus what attribution cost (the scan's record). */
export interface TodoScanResult extends ScanResult {
  attribution: AttributionReport;
  /** Files read and lexed (the rest came from the cache). */
  filesRead: number;
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
/** Up to this many `paths` are read (with their history) while git grep runs, instead of after. */
const MAX_PREFETCH = 50;

/**
 * Scans a repository (work tree, or a commit with `rev`) for TODO-style markers inside comments.
 * `git grep` finds the files that mention a marker at all; only those are read and lexed, and
 * only the lines found are attributed (attribution.ts). With a `cache`, a rescan reads only the
 * files changed since the last scan (`git diff-tree` of the two commits says which) and an
 * unchanged repository runs no `git log` or `git blame` at all. Returns findings of kind `todo`,
 * ordered by path and line, with a scope of `{ kinds: ["todo"], paths: options.paths }`.
 * @throws BacklogBotError `NOT_A_GIT_REPOSITORY` when `cwd` is not a work tree top or git directory.
 * @throws CommandError when `rev` names no commit or tree, or git fails.
 */
export async function scanTodos(options: TodoScanOptions): Promise<TodoScanResult> {
  const keywords = [...new Set(options.keywords ?? DEFAULT_KEYWORDS)].filter((k) => k.trim() && !k.includes("\n"));
  if (keywords.length === 0 || options.paths?.length === 0) {
    const source = await openGitSource(options.cwd, options.rev);
    return {
      findings: [],
      scope: { kinds: ["todo"], paths: options.paths },
      attribution: emptyReport(repositoryShape(source)),
      filesRead: 0,
    };
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

/** One scan's shared facts. */
interface Scan {
  source: GitSource;
  options: TodoScanOptions;
  keywords: string[];
  settings: string;
  /** The commit whose history attributes lines (undefined: a tree, or no commits yet). */
  head: string | undefined;
  dirty: Set<string>;
  state: ScanState | undefined;
  cache: ScanCache | undefined;
  report: AttributionReport;
  horizon: Date | undefined;
}

/** Hits of the files read, with the blob id of committed ones (for the cache and the blob chain). */
interface Collected {
  hits: Map<string, TodoHit[]>;
  blobs: Map<string, string>;
  read: number;
}

/** `git grep`, read and lex the candidate files among `paths` (all when undefined). */
async function collect(scan: Scan, paths: string[] | undefined, prefetch: string[] | undefined): Promise<Collected> {
  const { options, keywords } = scan;
  const only = paths && paths.length > MAX_PATHSPECS ? new Set(paths) : undefined;
  const include = paths && !only ? paths.map((p) => `:(literal)${p}`) : [];
  const excluded = picomatch([...DEFAULT_EXCLUDES, ...(options.exclude ?? [])], { dot: true });
  const pattern = markerPattern(keywords);
  const out: Collected = { hits: new Map(), blobs: new Map(), read: 0 };
  await readCandidateFiles(scan.source, {
    pattern: keywords.map((k) => k.replace(/[.[\]()*+?{}|^$\\]/g, "\\$&")).join("|"),
    pathspecs: [...include, ...DEFAULT_EXCLUDES.map((glob) => `:(exclude,glob)${glob}`)],
    accept: (p) => (!only || only.has(p)) && !excluded(p) && (syntaxForPath(p) !== undefined || mayHaveShebang(p)),
    maxBytes: MAX_FILE_BYTES,
    prefetch,
    // The few paths of a push are read anyway: extraction finds their markers, no git grep needed.
    grep: !prefetch,
    onFile: (path, text, blobId) => {
      if (++out.read % 500 === 0) options.onProgress?.({ phase: "reading", files: out.read });
      const syntax = syntaxForPath(path) ?? syntaxForShebang(text.slice(0, 200).split("\n")[0] ?? "");
      if (!syntax || looksMinified(text)) return;
      const found = extractTodos(text, syntax, pattern);
      if (found.length === 0) return;
      out.hits.set(path, found);
      // Dropped later for uncommitted files: only committed versions are cached.
      out.blobs.set(path, blobId());
    },
  });
  return out;
}

/** The last scan's commit, when it differs from this one: the replay of new commits starts there. */
function baseOf(scan: Scan): string | undefined {
  return scan.state && scan.state.commit !== scan.head ? scan.state.commit : undefined;
}

/** The versions of the last scan among `paths`, by path: what the replay of new commits ends on. */
async function baseVersions(scan: Scan, paths: Iterable<string>): Promise<Map<string, FileVersion>> {
  if (!scan.state || !scan.cache) return new Map();
  const wanted = new Set(paths);
  const keys = scan.state.files.filter((f) => wanted.has(f.path));
  const versions = keys.length ? await scan.cache.getVersions(scan.settings, keys) : [];
  return new Map(versions.map((v) => [`${v.path}\0${v.blob}`, v]));
}

/** Attributes collected hits: cached versions first, then attribution.ts; stores the new versions. */
async function attribute(
  scan: Scan,
  got: Collected,
  history?: Promise<FileHistory | undefined>,
  boundary?: Promise<string | undefined>,
): Promise<Map<string, Map<number, LineAuthor>>> {
  const authors = new Map<string, Map<number, LineAuthor>>();
  if (!scan.head || scan.options.blame === false) return authors;
  const keys: FileKey[] = [...got.blobs].map(([path, blob]) => ({ path, blob }));
  const cached = scan.cache && keys.length ? await scan.cache.getVersions(scan.settings, keys) : [];
  for (const version of cached) authors.set(version.path, version.authors);
  scan.report.cachedFiles += cached.length;
  const targets = new Map<string, BlameTarget>();
  for (const [path, hits] of got.hits) {
    if (!authors.has(path)) targets.set(path, { lines: hits.map((h) => h.line), blob: got.blobs.get(path) });
  }
  if (targets.size === 0) return authors;
  scan.options.onProgress?.({ phase: "attributing", files: targets.size });
  const known = await baseVersions(scan, targets.keys());
  const found = await attributeLines(scan.source, targets, {
    head: scan.head,
    horizon: scan.horizon,
    base: baseOf(scan),
    known: (path, blob) => known.get(`${path}\0${blob}`)?.authors,
    dirty: scan.dirty,
    shape: repositoryShape(scan.source),
    report: scan.report,
    ...(history && { prefetched: { base: baseOf(scan), history } }),
    ...(boundary && { boundary }),
  });
  const fresh: FileVersion[] = [];
  for (const [path, lines] of found) {
    authors.set(path, lines);
    const blob = got.blobs.get(path);
    if (blob) fresh.push({ path, blob, hits: got.hits.get(path) ?? [], authors: lines });
  }
  if (scan.cache && fresh.length) await scan.cache.save(scan.settings, fresh);
  return authors;
}

/** The findings of a set of files, sorted by path then line. */
function findingsOf(files: Iterable<[string, TodoHit[], Map<number, LineAuthor> | undefined]>): Finding[] {
  const sorted = [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted.flatMap(([path, hits, authors]) => todoFindings(path, hits, authors));
}

/**
 * A full rescan with a cache: only paths changed since the last scan's commit (plus work-tree
 * changes, then and now) are read; the others' findings come from their cached versions.
 * `undefined` when the cache cannot vouch for the rest (commit gone, versions missing).
 */
async function rescan(scan: Scan): Promise<{ findings: Finding[]; read: number; files: FileKey[] } | undefined> {
  const { state, cache, head } = scan;
  if (!state || !cache || !head) return undefined;
  const changed = state.commit === head ? [] : await changedPaths(scan.source, state.commit, head).catch(() => undefined);
  if (!changed) return undefined;
  const touched = new Set([...changed, ...scan.dirty, ...(state.dirty ?? [])]);
  const reuse = state.files.filter((f) => !touched.has(f.path));
  const versions = reuse.length ? await cache.getVersions(scan.settings, reuse) : [];
  if (versions.length !== reuse.length) return undefined;
  scan.report.cachedFiles += versions.length;
  const got = touched.size ? await collect(scan, [...touched], undefined) : { hits: new Map(), blobs: new Map(), read: 0 };
  for (const path of got.blobs.keys()) if (scan.dirty.has(path)) got.blobs.delete(path);
  const authors = await attribute(scan, got);
  const files: [string, TodoHit[], Map<number, LineAuthor> | undefined][] = versions.map((v) => [v.path, v.hits, v.authors]);
  for (const [path, hits] of got.hits) files.push([path, hits, authors.get(path)]);
  const keys = [...reuse, ...[...got.blobs].map(([path, blob]) => ({ path, blob }))];
  return { findings: findingsOf(files), read: got.read, files: keys };
}

/**
 * `scanTodos` once the source is known. A provisional source (an object id not yet verified)
 * may turn out to be a tree: its history commands then fail, which leaves findings unattributed.
 */
async function scanSource(source: GitSource, options: TodoScanOptions, keywords: string[]): Promise<TodoScanResult> {
  const blame = options.blame !== false;
  const horizon = attributionHorizon(options.now ?? new Date());
  const cache = blame && source.hasHistory ? options.cache : undefined;
  const settings = scanSettingsKey(keywords, options.exclude);
  const state = await cache?.lastScan(settings);
  const probing =
    source.rev || !blame
      ? Promise.resolve({ head: source.hasHistory ? source.rev : undefined, dirty: new Set<string>() })
      : probeWorkTree(source);
  const scan: Scan = {
    source,
    options,
    keywords,
    settings,
    head: source.rev && source.hasHistory ? source.rev : undefined, // a work tree's comes from the probe
    dirty: new Set(),
    state,
    cache,
    horizon,
    report: emptyReport(repositoryShape(source), horizon),
  };
  const scope = { kinds: ["todo" as const], paths: options.paths };

  if (!options.paths && state) {
    Object.assign(scan, await probing);
    const warm = await rescan(scan);
    if (warm) {
      const same = state.commit === scan.head && warm.read === 0 && !state.dirty?.length && scan.dirty.size === 0;
      if (!same) await cache?.save(settings, [], { commit: scan.head as string, files: warm.files, dirty: [...scan.dirty] });
      return { findings: warm.findings, scope, attribution: scan.report, filesRead: warm.read };
    }
  }
  // A push scan knows its few paths up front: read them and their history while git grep runs.
  const prefetch = options.paths && options.paths.length <= MAX_PREFETCH ? options.paths : undefined;
  const history =
    prefetch && blame && source.rev && source.hasHistory
      ? readHistory(source, source.rev, prefetch, { base: baseOf(scan), since: horizon, rawOnly: scan.report.partial }).catch(
          () => undefined,
        )
      : undefined;
  if (history) scan.report.historyProcesses++;
  // The work-tree probe and the horizon's boundary commit need no paths: they run while git grep does.
  const boundary = blame && horizon ? probing.then((p) => (p.head ? boundaryCommit(source, p.head, horizon) : undefined)) : undefined;
  const [got, probe] = await Promise.all([collect(scan, options.paths, prefetch), probing]);
  Object.assign(scan, probe);
  for (const path of got.blobs.keys()) if (!scan.head || scan.dirty.has(path)) got.blobs.delete(path);
  const authors = await attribute(scan, got, history, boundary);
  const findings = findingsOf([...got.hits].map(([path, hits]) => [path, hits, authors.get(path)]));
  if (cache && scan.head && !options.paths) {
    const files = [...got.blobs].map(([path, blob]) => ({ path, blob }));
    await cache.save(settings, [], { commit: scan.head, files, dirty: [...scan.dirty] });
  }
  return { findings, scope, attribution: scan.report, filesRead: got.read };
}
