import { type AttributionReport, attributeLines } from "./attribution.js";
import type { FileKey, FileVersion, ScanCache, ScanState, VersionAuthors } from "./attribution-cache.js";
import type { BlameTarget, FileHistory, LineAuthor } from "./blame-history.js";
import { changedPaths, type GitSource, repositoryShape } from "./git-source.js";
import type { TodoScanOptions } from "./todo.js";
import { type TodoHit, todoFindings } from "./todo-extract.js";
import type { Finding } from "./types.js";

/*
 * The cache-aware half of `scanTodos` (todo.ts): attributing what was read, through the store
 * first, and the warm rescan that reads only what changed since the last scan.
 */

/** One scan's shared facts. */
export interface Scan {
  source: GitSource;
  options: TodoScanOptions;
  keywords: string[];
  settings: string;
  /** The commit whose history attributes lines (undefined: a tree, or no commits yet). */
  head: string | undefined;
  dirty: Set<string>;
  /** The work tree's index stamp the probe judged `dirty` against (`probeWorkTreeState`). */
  index?: string;
  state: ScanState | undefined;
  cache: ScanCache | undefined;
  report: AttributionReport;
  horizon: Date | undefined;
  /**
   * Committed files with TODOs whose attribution was incomplete, or whose findings were cut by
   * `maxFindings`, so not stored: read again next scan.
   */
  uncached: Set<string>;
  /** Findings left out by `maxFindings` so far (todo.ts). */
  leftOut: number;
  /** Versions attributed by this scan: stored once at its end, with its record, in one transaction. */
  fresh: FileVersion[];
  /** `git grep`, read and lex the candidate files among `paths` (all when undefined). */
  collect(paths: string[] | undefined, prefetch: string[] | undefined): Promise<Collected>;
}

/** Hits of the files read, with the blob id of committed ones (for the cache and the blob chain). */
export interface Collected {
  hits: Map<string, TodoHit[]>;
  blobs: Map<string, string>;
  read: number;
}

/** The last scan's commit, when it differs from this one: the replay of new commits starts there. */
export function baseOf(scan: Scan): string | undefined {
  return scan.state && scan.state.commit !== scan.head ? scan.state.commit : undefined;
}

/** The line authors of the last scan's versions among `paths`, by path and blob: what the replay of new commits ends on. */
async function baseAuthors(scan: Scan, paths: Iterable<string>): Promise<Map<string, VersionAuthors>> {
  if (!scan.state || !scan.cache) return new Map();
  const wanted = new Set(paths);
  const keys = scan.state.files.filter((f) => wanted.has(f.path));
  const versions = keys.length ? await scan.cache.getAuthors(scan.settings, keys) : [];
  return new Map(versions.map((v) => [`${v.path}\0${v.blob}`, v]));
}

/**
 * The findings of collected hits, by path, attributed: cached versions first (their findings as
 * stored), then attribution.ts; adds the new versions to `scan.fresh`. Every path of `got.hits`
 * is in the result, unattributed when the scan has no history or blame is off.
 */
export async function attribute(
  scan: Scan,
  got: Collected,
  early: {
    history?: Promise<FileHistory | undefined>;
    boundary?: Promise<string | undefined>;
    touches?: Promise<FileHistory | undefined>;
  } = {},
): Promise<Map<string, Finding[]>> {
  const { history, boundary, touches } = early;
  const findings = new Map<string, Finding[]>();
  if (!scan.head || scan.options.blame === false) {
    for (const [path, hits] of got.hits) findings.set(path, todoFindings(path, hits));
    return findings;
  }
  const keys: FileKey[] = [...got.blobs].map(([path, blob]) => ({ path, blob }));
  const cached = scan.cache && keys.length ? await scan.cache.getFindings(scan.settings, keys) : [];
  for (const version of cached) findings.set(version.path, version.findings);
  scan.report.cachedFiles += cached.length;
  const targets = new Map<string, BlameTarget>();
  for (const [path, hits] of got.hits) {
    if (!findings.has(path)) targets.set(path, { lines: hits.map((h) => h.line), blob: got.blobs.get(path) });
  }
  if (targets.size === 0) return findings;
  scan.options.onProgress?.({ phase: "attributing", files: targets.size });
  const known = await baseAuthors(scan, targets.keys());
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
    ...(touches && { touches }),
  });
  for (const path of targets.keys()) {
    const lines = found.get(path) ?? new Map<number, LineAuthor>();
    const hits = got.hits.get(path) ?? [];
    const built = todoFindings(path, hits, lines);
    findings.set(path, built);
    const blob = got.blobs.get(path);
    // Only complete answers are kept: a line git could not attribute (a failed command, a partial
    // clone's missing blob) is asked again next time instead of being remembered as unknown.
    if (blob && hits.every((h) => lines.has(h.line))) scan.fresh.push({ path, blob, findings: built, authors: lines });
    else if (blob) scan.uncached.add(path);
  }
  return findings;
}

/** The findings of a set of files (each in line order), sorted by path then line. */
export function findingsOf(files: Iterable<[string, Finding[]]>): Finding[] {
  const sorted = [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted.flatMap(([, list]) => list);
}

/**
 * A full rescan with a cache: only paths changed since the last scan's commit (plus work-tree
 * changes, then and now) are read; the others' findings come from their cached versions.
 * `undefined` when the cache cannot vouch for the rest (commit gone, versions missing).
 */
export async function rescan(scan: Scan): Promise<{ findings: Finding[]; read: number; files: FileKey[] } | undefined> {
  const { state, cache, head } = scan;
  if (!state || !cache || !head) return undefined;
  const changed = state.commit === head ? [] : await changedPaths(scan.source, state.commit, head).catch(() => undefined);
  if (!changed) return undefined;
  const touched = new Set([...changed, ...scan.dirty, ...(state.dirty ?? [])]);
  const reuse = state.files.filter((f) => !touched.has(f.path));
  const versions = reuse.length ? await cache.getFindings(scan.settings, reuse) : [];
  if (versions.length !== reuse.length) return undefined;
  scan.report.cachedFiles += versions.length;
  const got = touched.size ? await scan.collect([...touched], undefined) : { hits: new Map(), blobs: new Map(), read: 0 };
  for (const path of got.blobs.keys()) if (scan.dirty.has(path)) got.blobs.delete(path);
  const files: [string, Finding[]][] = versions.map((v) => [v.path, v.findings]);
  files.push(...(await attribute(scan, got)));
  const keys = [...reuse, ...[...got.blobs].filter(([path]) => !scan.uncached.has(path)).map(([path, blob]) => ({ path, blob }))];
  return { findings: findingsOf(files), read: got.read, files: keys };
}
