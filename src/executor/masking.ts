import {
  ASSERTIONS,
  isComment,
  isTestPath,
  LOOSE_ASSERTIONS,
  matchesAny,
  SKIP_MARKERS,
  STRICT_ASSERTIONS,
  TEST_CONFIG_EXCLUSIONS,
  TEST_CONFIG_FILES,
  testName,
} from "./masking-rules.js";
import type { TreeChange } from "./verify-tree.js";

/**
 * The anti-masking guard: a change that makes tests pass by not running them, by deleting them or
 * by asking less of them is flagged, and a flagged run is never called verified (issue 10). The
 * guard reads the diff only; it is deliberately strict, since a reviewer can clear a false flag
 * in seconds while a masked failure ships a bug.
 */

/** Kinds of masking. */
export type MaskingKind =
  | "skip-marker"
  | "deleted-test-file"
  | "deleted-test-case"
  | "removed-assertions"
  | "loosened-assertion"
  | "rewritten-assertion"
  | "test-command-changed"
  | "test-config-exclusion"
  | "diff-too-large";

/** One finding of the guard. `line` is in the new file (old file for removals), 1-based, when known. */
export interface MaskingFlag {
  kind: MaskingKind;
  path: string;
  line: number | null;
  /** The offending line or a short explanation, at most 200 characters. */
  detail: string;
}

interface DiffLine {
  text: string;
  line: number;
  hunk: number;
}

interface FileDiff {
  path: string;
  added: DiffLine[];
  removed: DiffLine[];
}

/** Splits a unified diff (`git diff`) into per-file added and removed lines with their line numbers. */
export function parseUnifiedDiff(diff: string): FileDiff[] {
  const files: FileDiff[] = [];
  let current: FileDiff | undefined;
  let oldLine = 0;
  let newLine = 0;
  let hunk = 0;
  for (const raw of diff.split("\n")) {
    if (raw.startsWith("diff --git ")) {
      const m = / b\/(.*)$/.exec(raw);
      current = { path: m?.[1] ?? "", added: [], removed: [] };
      files.push(current);
      continue;
    }
    if (!current) continue;
    if (raw.startsWith("+++ ")) {
      if (raw !== "+++ /dev/null") current.path = raw.slice(4).replace(/^b\//, "");
      continue;
    }
    if (raw.startsWith("--- ")) continue;
    const header = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(raw);
    if (header) {
      oldLine = Number(header[1]);
      newLine = Number(header[2]);
      hunk++;
      continue;
    }
    if (raw.startsWith("+")) current.added.push({ text: raw.slice(1), line: newLine++, hunk });
    else if (raw.startsWith("-")) current.removed.push({ text: raw.slice(1), line: oldLine++, hunk });
    else if (raw.startsWith(" ")) {
      oldLine++;
      newLine++;
    }
  }
  return files;
}

const clip = (text: string) => text.trim().slice(0, 200);

/** Lines that are code (comments do nothing, so a commented-out assertion counts as removed). */
const code = (lines: DiffLine[]) => lines.filter((l) => !isComment(l.text));

/**
 * Flags masking in a change.
 * @param diff - `git diff base tree` (see `treeDiff`); `truncated` when it was cut.
 * @param changes - the changed files with statuses (see `treeChanges`), for deleted test files.
 */
export function detectMasking(diff: { text: string; truncated: boolean }, changes: readonly TreeChange[]): MaskingFlag[] {
  const flags: MaskingFlag[] = [];
  if (diff.truncated)
    flags.push({ kind: "diff-too-large", path: "", line: null, detail: "the diff is too large to check for masked tests" });
  for (const change of changes) {
    const gone = change.status === "D" ? change.path : change.status === "R" && !isTestPath(change.path) ? change.from : undefined;
    if (gone && isTestPath(gone)) flags.push({ kind: "deleted-test-file", path: gone, line: null, detail: `test file ${gone} deleted` });
  }
  const deleted = new Set(changes.filter((c) => c.status === "D").map((c) => c.path));
  const files = parseUnifiedDiff(diff.text).filter((f) => !deleted.has(f.path));
  const addedNames = new Set(files.flatMap((f) => code(f.added).map((l) => testName(l.text))).filter((n) => n));
  removedAssertions(files, flags);

  for (const file of files) {
    const added = code(file.added);
    const removed = code(file.removed);
    // Skip markers: any file (Rust keeps unit tests beside the code); more added than removed.
    const markers = added.filter((l) => matchesAny(SKIP_MARKERS, l.text));
    const removedMarkers = removed.filter((l) => matchesAny(SKIP_MARKERS, l.text)).length;
    for (const l of markers.slice(removedMarkers)) flags.push({ kind: "skip-marker", path: file.path, line: l.line, detail: clip(l.text) });

    if (/(^|\/)package\.json$/.test(file.path) && [...file.added, ...file.removed].some((l) => /"test"\s*:/.test(l.text))) {
      const line = file.added.find((l) => /"test"\s*:/.test(l.text)) ?? file.removed.find((l) => /"test"\s*:/.test(l.text));
      flags.push({ kind: "test-command-changed", path: file.path, line: line?.line ?? null, detail: clip(line?.text ?? "") });
    }
    if (TEST_CONFIG_FILES.test(file.path)) {
      for (const l of added.filter((a) => TEST_CONFIG_EXCLUSIONS.test(a.text))) {
        flags.push({ kind: "test-config-exclusion", path: file.path, line: l.line, detail: clip(l.text) });
      }
    }
    if (!isTestPath(file.path) && !/\.rs$/.test(file.path)) continue;

    // Deleted test cases: a removed definition whose name no added line defines (moves are fine).
    let unnamed = added.filter((l) => testName(l.text) === "").length;
    for (const l of removed) {
      const name = testName(l.text);
      if (name === null || (name && addedNames.has(name))) continue;
      if (name === "" && unnamed-- > 0) continue;
      flags.push({ kind: "deleted-test-case", path: file.path, line: l.line, detail: clip(l.text) });
    }
    if (!isTestPath(file.path)) continue;
    assertionFlags(file.path, added, removed, flags);
  }
  return flags;
}

/**
 * Fewer assertions across all test files: counted over the whole diff, so tests moved from one
 * file to another are not flagged.
 */
function removedAssertions(files: readonly FileDiff[], flags: MaskingFlag[]): void {
  const tests = files.filter((f) => isTestPath(f.path));
  const removed = tests.flatMap((f) =>
    code(f.removed)
      .filter((l) => matchesAny(ASSERTIONS, l.text))
      .map((l) => ({ ...l, path: f.path })),
  );
  const added = tests.reduce((n, f) => n + code(f.added).filter((l) => matchesAny(ASSERTIONS, l.text)).length, 0);
  const first = removed[0];
  if (!first || removed.length <= added) return;
  flags.push({
    kind: "removed-assertions",
    path: first.path,
    line: first.line,
    detail: `${removed.length - added} fewer assertion(s); first removed: ${clip(first.text)}`.slice(0, 200),
  });
}

/** Strict assertions swapped for loose ones, or an expected value rewritten. */
function assertionFlags(path: string, added: DiffLine[], removed: DiffLine[], flags: MaskingFlag[]): void {
  const count = (lines: DiffLine[], rules: readonly RegExp[]) => lines.filter((l) => matchesAny(rules, l.text));
  const removedAsserts = count(removed, ASSERTIONS);
  const addedAsserts = count(added, ASSERTIONS);
  const strictGone = count(removed, STRICT_ASSERTIONS).length - count(added, STRICT_ASSERTIONS).length;
  const looseNew = count(added, LOOSE_ASSERTIONS);
  const loosened = strictGone > 0 && looseNew.length > count(removed, LOOSE_ASSERTIONS).length;
  if (loosened) {
    const l = looseNew[0];
    flags.push({ kind: "loosened-assertion", path, line: l?.line ?? null, detail: clip(l?.text ?? "") });
  }
  for (const a of addedAsserts) {
    if (loosened && looseNew.includes(a)) continue; // already said, more precisely

    const r = removedAsserts.find((x) => x.hunk === a.hunk && sameSubject(x.text, a.text));
    if (r) flags.push({ kind: "rewritten-assertion", path, line: a.line, detail: `${clip(r.text)} → ${clip(a.text)}`.slice(0, 200) });
  }
}

/**
 * Whether two assertion lines differ only in the expected value: their common prefix reaches past
 * the last matcher or comparison of the old line (`).toBe(`, `==`, `, ` of `assert.equal(a, b)`).
 */
function sameSubject(before: string, after: string): boolean {
  const a = before.trim();
  const b = after.trim();
  if (a === b) return false;
  let common = 0;
  while (common < a.length && a[common] === b[common]) common++;
  const boundary = Math.max(a.lastIndexOf(").to"), a.lastIndexOf("=="), a.lastIndexOf("!="), a.lastIndexOf(", "));
  return boundary > 0 && common > boundary;
}
