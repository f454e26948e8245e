import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { random as seededRandom } from "../../../bench/rank-rows.js";
import { type Hunk, lineBefore } from "../../../src/scanners/blame-history.js";
import { lineChange, linesOf, traceLine } from "../../../src/scanners/line-trace.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const dir = makeTempDir();
afterAll(() => removeDir(dir));

/** git's own `-U0` myers hunks between two texts (`git diff --no-index`), as the replay reads them. */
function gitHunks(older: string, newer: string): Hunk[] {
  writeFileSync(path.join(dir, "a"), older);
  writeFileSync(path.join(dir, "b"), newer);
  let out = "";
  try {
    execFileSync("git", ["diff", "--no-index", "-U0", "--diff-algorithm=myers", "--no-color", "a", "b"], { cwd: dir, encoding: "utf8" });
  } catch (error) {
    out = (error as { stdout: string }).stdout; // exit 1: the files differ
  }
  const hunks: Hunk[] = [];
  for (const m of out.matchAll(/^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/gm)) {
    hunks.push({ oldCount: Number(m[1] ?? 1), newStart: Number(m[2]), newCount: Number(m[3] ?? 1) });
  }
  return hunks;
}

const trace = (older: string, newer: string, line: number) =>
  traceLine(lineChange(linesOf(Buffer.from(older)), linesOf(Buffer.from(newer))), line - 1);

describe("tracing a line to the version before without a diff", () => {
  it("keeps lines of the common prefix and suffix, shifted, and finds added ones", () => {
    const older = "a\nb\nc\nd\n";
    const newer = "a\nb\nnew one\nnew two\nc\nd\n";
    expect([1, 2, 3, 4, 5, 6].map((line) => trace(older, newer, line))).toEqual([
      { kind: "kept", at: 0 },
      { kind: "kept", at: 1 },
      { kind: "added" },
      { kind: "added" },
      { kind: "kept", at: 2 },
      { kind: "kept", at: 3 },
    ]);
  });

  it("says unknown where only a diff can tell: the text again in the changed part, or already in the older version", () => {
    // Inserting "x\ny\n" after the first "x\ny\n": git may call either copy the added one.
    expect(trace("x\ny\nz\n", "x\ny\nx\ny\nz\n", 1)).toEqual({ kind: "unknown" });
    expect(trace("x\ny\nz\n", "x\ny\nx\ny\nz\n", 3)).toEqual({ kind: "unknown" });
    // Two changes around an unchanged "keep": every minimal diff keeps it, unless its text repeats
    // or a pair of equal lines crosses it (moved lines), where only git's diff can tell.
    expect(trace("one\nkeep\ntwo\n", "ONE\nkeep\nTWO\n", 2)).toEqual({ kind: "kept", at: 1 });
    expect(trace("one\nkeep\ntwo\n", "ONE\nkeep\nTWO\n", 1)).toEqual({ kind: "added" });
    expect(trace("one\nkeep\ntwo\nkeep\n", "ONE\nkeep\nTWO\nkeep\n", 2)).toEqual({ kind: "unknown" });
    expect(trace("a\nkeep\nb\nz\n", "b\nkeep\na\nz\n", 2)).toEqual({ kind: "unknown" });
  });

  it("treats a last line without a newline as a different line, as git does", () => {
    expect(trace("a\nb", "a\nb\n", 2)).toEqual({ kind: "added" });
    expect(trace("a\nb\n", "a\nb", 2)).toEqual({ kind: "added" });
    expect(trace("a\nb", "a\nb\nc", 1)).toEqual({ kind: "kept", at: 0 });
    expect(trace("a\n", "a\n", 3)).toEqual({ kind: "unknown" }); // past the end
  });

  /** Random edits of random files, each line traced and compared with git's own diff; returns the counts. */
  function compareWithGit(seed: number, repeatedShare: number): { decided: number; unknown: number } {
    const next = seededRandom(seed);
    const vocabulary = ["}", "", "  return x;", "// TODO: again", "  y++;", "{"];
    let serial = 0;
    const line = () =>
      next() < repeatedShare ? (vocabulary[Math.floor(next() * vocabulary.length)] as string) : `  v${serial++} = f(${serial});`;
    let decided = 0;
    let unknown = 0;
    for (let round = 0; round < 60; round++) {
      const older = Array.from({ length: 20 + Math.floor(next() * 40) }, line);
      const newer = [...older];
      for (let edits = 1 + Math.floor(next() * 3); edits > 0; edits--) {
        const at = Math.floor(next() * newer.length);
        const roll = next();
        if (roll < 0.35) newer.splice(at, 0, ...Array.from({ length: 1 + Math.floor(next() * 3) }, line));
        else if (roll < 0.6) newer.splice(at, 1 + Math.floor(next() * 2));
        else if (roll < 0.8) newer[at] = line();
        else newer.splice(Math.floor(next() * newer.length), 0, ...newer.splice(at, 1 + Math.floor(next() * 3))); // a move
      }
      const [a, b] = [`${older.join("\n")}\n`, `${newer.join("\n")}${next() < 0.1 ? "" : "\n"}`];
      if (a === b) continue;
      const hunks = gitHunks(a, b);
      const change = lineChange(linesOf(Buffer.from(a)), linesOf(Buffer.from(b)));
      for (let i = 0; i < newer.length; i++) {
        const origin = traceLine(change, i);
        if (origin.kind === "unknown") {
          unknown++;
          continue;
        }
        decided++;
        expect([i, origin.kind === "added" ? undefined : origin.at + 1]).toEqual([i, lineBefore(i + 1, hunks)]);
      }
    }
    return { decided, unknown };
  }

  it("agrees with git's myers diff on every line it decides, over random edits and moves with repeated lines", () => {
    const { decided, unknown } = compareWithGit(7, 0.35);
    // Both kinds occur (1,348 decided, 980 left to git with this seed).
    expect(unknown).toBeGreaterThan(0);
    expect(decided).toBeGreaterThan(unknown);
  });

  it("agrees with git's myers diff where no line repeats, deciding nearly all of them", () => {
    const { decided, unknown } = compareWithGit(11, 0);
    // 2,223 decided, 208 left to git with this seed: lines that moved, or that a move crosses.
    expect(decided).toBeGreaterThan(5 * unknown);
  });
});
