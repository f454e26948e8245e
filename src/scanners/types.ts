import type { FindingKind } from "../store/schema.js";

export type { FindingKind };

/**
 * Facts a scanner attaches to a finding for the prioritizer. Every field is optional: a scanner sets
 * what it knows. Times are ISO 8601 strings.
 */
export interface FindingSignals {
  /** From the code-comment scanner: the marker found (`TODO`, `FIXME`, ...), upper-cased. */
  marker?: string;
  /** From the code-comment scanner: `git blame` author name and author time of the line. */
  author?: string;
  authoredAt?: string;
  /**
   * Set when the line is older than the history the scan walked (the ranking's age cap):
   * `authoredAt` is then an upper bound that scores the same as the true date, and `author` is
   * absent (resolve it with `authorOfLine` for the rows shown).
   */
  authoredBefore?: boolean;
  /** Issue scanners: creation and last update times, labels, total reactions, comment count. */
  createdAt?: string;
  updatedAt?: string;
  labels?: string[];
  reactions?: number;
  comments?: number;
  assignees?: string[];
  /** Check scanner: the check's name, the commit it ran on, its conclusion, and whether it also passed on that commit. */
  checkName?: string;
  headSha?: string;
  conclusion?: string;
  flaky?: boolean;
  /** Check scanner: annotation lines and the tail of the job log, for the backlog and the prompt. */
  annotations?: string[];
  logExcerpt?: string;
}

/** One piece of work a scanner discovered, before it is stored. */
export interface Finding {
  kind: FindingKind;
  /** Stable within a repository: the same piece of work yields the same fingerprint on every scan. */
  fingerprint: string;
  /** One line, for tables and titles. */
  title: string;
  body?: string;
  path?: string;
  /** 1-based line number. */
  line?: number;
  url?: string;
  issueNumber?: number;
  signals: FindingSignals;
}

/**
 * What a scan covered, so the store knows which stored findings the scan vouches for: a stored,
 * unresolved finding inside the scope that the scan did not report again is resolved.
 * `paths` narrows a scan to those files (an incremental push scan); absent means the whole repository.
 */
export interface ScanScope {
  kinds: FindingKind[];
  paths?: string[];
}

/** A scan's output: the findings it saw and the scope it vouches for. */
export interface ScanResult {
  findings: Finding[];
  scope: ScanScope;
}
