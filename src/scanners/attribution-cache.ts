import { createHash } from "node:crypto";
import type { LineAuthor } from "./blame-history.js";
import type { Finding } from "./types.js";

/** One version of one file: a path and the blob id of its content. */
export interface FileKey {
  path: string;
  blob: string;
}

/** One committed file version's TODO findings, as built (`todoFindings`, in line order). */
export interface VersionFindings extends FileKey {
  findings: Finding[];
}

/** Who last wrote each TODO line of one committed file version: where a replay of later commits starts. */
export interface VersionAuthors extends FileKey {
  /** 1-based line -> author, for the lines of the version's findings that could be attributed. */
  authors: Map<number, LineAuthor>;
}

/**
 * What a scan learned about one committed file version: its TODO findings and who last wrote
 * each of their lines. Valid for every later scan that meets the same path with the same blob,
 * so the file is neither read, nor blamed, nor are its findings built again.
 */
export interface FileVersion extends VersionFindings, VersionAuthors {}

/** The last complete scan under some settings: the commit it scanned and the versions it found TODOs in. */
export interface ScanState {
  commit: string;
  files: FileKey[];
  /** Work-tree paths that had uncommitted changes (read from disk, not cached): read again next time. */
  dirty?: string[];
  /** SHA-1 of the work tree's index file as the scan judged it (`indexStamp`): equal next time, with HEAD, means nothing was staged since. */
  index?: string;
}

/**
 * Where a repository's file versions and last scan are kept between scans (the store, SQLite or
 * PostgreSQL: `src/store/attribution.ts`). Entries are keyed by `settings` (`scanSettingsKey`),
 * since other keywords find other TODOs in the same blob.
 */
export interface ScanCache {
  /** The last complete scan recorded under `settings`, if any. */
  lastScan(settings: string): Promise<ScanState | undefined>;
  /** The findings of the stored versions among `keys` (any order; unknown keys are left out): what a rescan reuses. */
  getFindings(settings: string, keys: FileKey[]): Promise<VersionFindings[]>;
  /** The line authors of the stored versions among `keys` (any order; unknown keys are left out): where a replay of new commits ends. */
  getAuthors(settings: string, keys: FileKey[]): Promise<VersionAuthors[]>;
  /** Stores versions (replacing equal keys) and, for a complete scan, the new last scan. */
  save(settings: string, versions: FileVersion[], scan?: ScanState): Promise<void>;
}

/** Bump when extraction or attribution changes what a cached version would hold. */
const CACHE_FORMAT = 1;

/**
 * The key under which a scan's cached versions are valid: the cache format, the keywords and the
 * exclude and include globs (which decide the TODOs found and the files read), and the ranking's
 * age cap in days (`ageCapDays()`): a line stored as "older than the horizon" says nothing once
 * the cap grows. No include globs give the key they gave before include existed.
 */
export function scanSettingsKey(
  keywords: readonly string[],
  exclude: readonly string[] = [],
  capDays = 0,
  include: readonly string[] = [],
): string {
  const parts: unknown[] = [CACHE_FORMAT, [...keywords].sort(), [...exclude].sort(), capDays];
  if (include.length) parts.push([...include].sort());
  const text = JSON.stringify(parts);
  return createHash("sha1").update(text).digest("hex").slice(0, 16);
}
