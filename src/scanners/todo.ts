import picomatch from "picomatch";
import { compileGlobs } from "../util/glob.js";
import { type AttributionReport, emptyReport } from "./attribution.js";
import { boundaryCommit } from "./attribution-boundary.js";
import { type ScanCache, scanSettingsKey } from "./attribution-cache.js";
import { ageCapDays, attributionHorizon } from "./attribution-horizon.js";
import { attribute, baseOf, type Collected, findingsOf, rescan, type Scan } from "./attribution-scan.js";
import { readCandidateFiles } from "./candidate-files.js";
import { mayHaveShebang, syntaxForPath, syntaxForShebang } from "./comment-syntax.js";
import { type GitSource, openGitSource, provisionalGitSource, provisionalWorkTree, repositoryShape } from "./git-source.js";
import { readHistory } from "./history-log.js";
import { extractTodos, looksMinified, markerPattern, type TodoHit } from "./todo-extract.js";
import type { Finding, ScanResult } from "./types.js";
import { probeWorkTreeState, type WorkTreeProbe } from "./work-tree-state.js";

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
  /**
   * Globs of repo-relative paths to skip, on top of `DEFAULT_EXCLUDES`, matched by src/util/glob.ts
   * (linear in the path: they come from the repository's config).
   */
  exclude?: string[];
  /**
   * Globs (src/util/glob.ts) of paths scanned even inside a `DEFAULT_EXCLUDES` tree (config `todo.include`,
   * e.g. `vendor/ours/**`); `exclude` still wins. With any, git grep reads those trees too.
   */
  include?: string[];
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
  /** Findings kept at most, the first in path then line order. Default `MAX_FINDINGS`. */
  maxFindings?: number;
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
  /** Findings past `maxFindings` (`MAX_FINDINGS`), left out of `findings`: 0 unless the repository holds more. */
  leftOut: number;
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

/**
 * Findings one TODO scan keeps at most: the first in path then line order (the order of
 * `findings`); the rest are counted in `leftOut`. It bounds the memory of a scan and of all that
 * follows it (the store, the ranking, the dashboard) whatever a repository holds: 600,000 TODO
 * lines in 10 files of 1.7 MB took a CLI scan to 1.25 GB and 15 s, and the app scans every
 * installation's repositories in one process. 100,000 is the backlog size the ranking and the
 * CLI are benchmarked at (bench/rank.ts, bench/cli-startup.ts); GitHub's code scanning keeps
 * fewer results per analysis (25,000 per SARIF run).
 */
export const MAX_FINDINGS = 100_000;

/** Files above this size (bytes) are data or generated code, not worth lexing. */
const MAX_FILE_BYTES = 2 * 1024 * 1024;
/** A longer `paths` list is filtered after a whole-repository grep instead of passed as pathspecs (argument limits). */
const MAX_PATHSPECS = 1000;
/**
 * The early read of every file's touches within the horizon gives up beyond this many lines of
 * `git log --raw` (about 50 MB held; renovate's window is 18,700 lines), and the replay then reads
 * only the directories of the files with findings, as it would without it.
 */
const MAX_TOUCH_LINES = 200_000;
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
      leftOut: 0,
    };
  }
  // A push scan names its commit by id, and a work tree's top holds `.git`: spawning dominates
  // such scans, so the repository is not verified up front; a failure is explained by verifying it then.
  const early = options.rev === undefined ? provisionalWorkTree(options.cwd) : provisionalGitSource(options.cwd, options.rev);
  if (!early) return scanSource(await openGitSource(options.cwd, options.rev), options, keywords);
  try {
    return await scanSource(early, options, keywords);
  } catch (error) {
    // Throws NOT_A_GIT_REPOSITORY, or a clearer error about `rev`. A `.git` that is no work tree
    // (a repository with `core.bare`) is scanned as what git says it is.
    const verified = await openGitSource(options.cwd, options.rev);
    if (early.workTree && !verified.workTree) return scanSource(verified, options, keywords);
    throw error;
  }
}

/** `git grep`, read and lex the candidate files among `paths` (all when undefined). */
async function collect(scan: Scan, paths: string[] | undefined, prefetch: string[] | undefined): Promise<Collected> {
  const { options, keywords } = scan;
  const only = paths && paths.length > MAX_PATHSPECS ? new Set(paths) : undefined;
  const include = paths && !only ? paths.map((p) => `:(literal)${p}`) : [];
  // The repository's own globs go through the linear-time matcher (util/glob.ts); the built-in ones through picomatch.
  const builtIn = picomatch([...DEFAULT_EXCLUDES], { dot: true });
  const userExcluded = options.exclude?.length ? compileGlobs(options.exclude) : () => false;
  const excluded = (p: string) => builtIn(p) || userExcluded(p);
  // An included path inside a default-excluded tree must reach the filter: git's pathspecs cannot re-include.
  const included = options.include?.length ? compileGlobs(options.include) : undefined;
  const skip = included ? (p: string) => userExcluded(p) || (!included(p) && builtIn(p)) : excluded;
  const pattern = markerPattern(keywords);
  const out: Collected = { hits: new Map(), blobs: new Map(), read: 0 };
  const cap = options.maxFindings ?? MAX_FINDINGS;
  let held = 0;
  /** Once the cap is reached: files after this path are left out as they arrive. */
  let cutoff: string | undefined;
  /** Keeps the first `cap` hits in path order; a file cut or left out is not cached, so the next scan reads it again. */
  const trim = () => {
    held = 0;
    cutoff = undefined;
    for (const path of [...out.hits.keys()].sort()) {
      const hits = out.hits.get(path) as TodoHit[];
      const keep = Math.min(hits.length, cap - held);
      if (keep > 0) cutoff = path;
      held += keep;
      if (keep === hits.length) continue;
      scan.leftOut += hits.length - keep;
      scan.uncached.add(path);
      out.blobs.delete(path);
      if (keep > 0) out.hits.set(path, hits.slice(0, keep));
      else out.hits.delete(path);
    }
    if (held < cap) cutoff = undefined;
  };
  await readCandidateFiles(scan.source, {
    pattern: keywords.map((k) => k.replace(/[.[\]()*+?{}|^$\\]/g, "\\$&")).join("|"),
    pathspecs: [...include, ...(included ? [] : DEFAULT_EXCLUDES.map((glob) => `:(exclude,glob)${glob}`))],
    accept: (p) => (!only || only.has(p)) && !skip(p) && (syntaxForPath(p) !== undefined || mayHaveShebang(p)),
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
      if (cutoff !== undefined && path > cutoff) {
        scan.leftOut += found.length;
        scan.uncached.add(path);
        return;
      }
      out.hits.set(path, found);
      // Dropped later for uncommitted files: only committed versions are cached.
      out.blobs.set(path, blobId());
      held += found.length;
      if (held >= 2 * cap) trim(); // files arrive in no order: trimming at twice the cap keeps memory bounded and the sorts few
    },
  });
  if (held > cap) trim();
  return out;
}

/**
 * `scanTodos` once the source is known. A provisional source (an object id not yet verified)
 * may turn out to be a tree: its history commands then fail, which leaves findings unattributed.
 */
async function scanSource(source: GitSource, options: TodoScanOptions, keywords: string[]): Promise<TodoScanResult> {
  const blame = options.blame !== false;
  const horizon = attributionHorizon(options.now ?? new Date());
  const cache = blame && source.hasHistory ? options.cache : undefined;
  const settings = scanSettingsKey(keywords, options.exclude, ageCapDays(), options.include);
  const state = await cache?.lastScan(settings);
  // A commit scan has no work tree to ask about; a work tree's is read from its files when the last scan allows.
  const probing: Promise<WorkTreeProbe> =
    source.rev || !blame || !source.workTree
      ? Promise.resolve({ head: source.hasHistory ? source.rev : undefined, dirty: new Set<string>() })
      : probeWorkTreeState({ ...source, workTree: source.workTree }, state);
  probing.catch(() => {}); // awaited below on every path; this only keeps an early failure from going unhandled
  const scan: Scan = {
    uncached: new Set(),
    leftOut: 0,
    fresh: [],
    collect: (paths, prefetch) => collect(scan, paths, prefetch),
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
      const same =
        state.commit === scan.head && state.index === scan.index && warm.read === 0 && !state.dirty?.length && scan.dirty.size === 0;
      const dirty = [...scan.dirty, ...scan.uncached];
      const record = { commit: scan.head as string, files: warm.files, dirty, ...(scan.index && { index: scan.index }) };
      if (!same || dirty.length || scan.fresh.length) await cache?.save(settings, scan.fresh, record);
      return { findings: capped(scan, warm.findings), scope, attribution: scan.report, filesRead: warm.read, leftOut: scan.leftOut };
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
  const boundary =
    blame && horizon
      ? probing.then((p) => (p.head ? boundaryCommit(source, p.head, horizon) : undefined)).catch(() => undefined)
      : undefined;
  // A whole scan's history within the horizon, touches only (`git log --raw`, no pathspec: cheaper than
  // naming directories), also needs no paths: the replay by blobs (blob-walk.ts) starts from it.
  const touches =
    boundary && !options.paths && !scan.report.partial
      ? probing
          .then((p) =>
            p.head ? readHistory(source, p.head, undefined, { since: horizon, rawOnly: true, maxLines: MAX_TOUCH_LINES }) : undefined,
          )
          .catch(() => undefined)
      : undefined;
  if (touches) scan.report.historyProcesses++;
  const [got, probe] = await Promise.all([collect(scan, options.paths, prefetch), probing]);
  Object.assign(scan, probe);
  for (const path of got.blobs.keys()) if (!scan.head || scan.dirty.has(path)) got.blobs.delete(path);
  const findings = capped(scan, findingsOf(await attribute(scan, got, { history, boundary, touches })));
  if (cache && scan.head && !options.paths) {
    const files = [...got.blobs].filter(([path]) => !scan.uncached.has(path)).map(([path, blob]) => ({ path, blob }));
    const dirty = [...scan.dirty, ...scan.uncached];
    await cache.save(settings, scan.fresh, { commit: scan.head, files, dirty, ...(scan.index && { index: scan.index }) });
  } else if (cache && scan.fresh.length) await cache.save(settings, scan.fresh);
  await touches; // no git child outlives the scan (the early log has almost always ended by now)
  return { findings, scope, attribution: scan.report, filesRead: got.read, leftOut: scan.leftOut };
}

/**
 * The first `maxFindings` of `findings` (in path then line order), the rest counted in
 * `scan.leftOut`. A rescan's cached files come in whole, so the cut is made again on them all.
 */
function capped(scan: Scan, findings: Finding[]): Finding[] {
  const cap = scan.options.maxFindings ?? MAX_FINDINGS;
  if (findings.length <= cap) return findings;
  scan.leftOut += findings.length - cap;
  return findings.slice(0, cap);
}
