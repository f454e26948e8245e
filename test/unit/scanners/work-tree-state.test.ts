import { lstatSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { changedFiles, gitDirsOf, type IndexSnapshot, readHeadCommit, readIndex } from "../../../src/scanners/work-tree-state.js";
import { commitFiles, deleteFiles, git, initRepo, makeTempDir, removeDir, writeFiles } from "../../fixtures/git-repo.js";

const cleanup: string[] = [];
afterEach(() => {
  for (const dir of cleanup.splice(0)) removeDir(dir);
});

function repo(): string {
  const dir = initRepo();
  cleanup.push(dir);
  commitFiles(dir, { "a.ts": "// TODO: a\n", "src/b.ts": "b();\n", "src/deep/c.ts": "c();\n", "d.md": "d\n" });
  symlinkSync("a.ts", path.join(dir, "link"));
  git(dir, ["add", "link"]);
  git(dir, ["commit", "-q", "-m", "link"]);
  return dir;
}

/** What `git status` calls modified, deleted or retyped in the work tree (not staged, not untracked). */
function gitChanged(dir: string): string[] {
  const out = git(dir, ["status", "--porcelain=v2", "-z", "--untracked-files=no"]);
  return out
    .split("\0")
    .filter((e) => e.startsWith("1 ") && e[3] !== ".")
    .map((e) => e.split(" ").slice(8).join(" "))
    .sort();
}

function ours(dir: string): string[] {
  const index = readIndex(gitDirsOf(dir));
  expect(index).toBeDefined();
  return [...changedFiles(dir, index as IndexSnapshot)].sort();
}

describe("work tree state from files", () => {
  it.each([2, 3, 4])("finds what git status finds in an index of version %i", (version) => {
    const dir = repo();
    // Extended flags (skip-worktree, skipped as git does) need version 3 or 4; setting one lifts 2 to 3.
    if (version > 2) git(dir, ["update-index", "--skip-worktree", "d.md"]);
    git(dir, ["update-index", `--index-version=${version}`]);
    expect(ours(dir)).toEqual([]);
    writeFiles(dir, { "a.ts": "// TODO: changed\n", "src/deep/c.ts": "c2();\n", "d.md": "changed; skip-worktree from version 3\n" });
    deleteFiles(dir, ["src/b.ts"]);
    writeFiles(dir, { "new.ts": "// TODO: untracked\n" });
    expect(ours(dir)).toEqual(gitChanged(dir));
    expect(ours(dir)).toEqual(["a.ts", ...(version === 2 ? ["d.md"] : []), "src/b.ts", "src/deep/c.ts"]);
    expect(readFileSync(path.join(dir, ".git", "index")).readUInt32BE(4)).toBe(version);
  });

  it("finds a same-size edit whose mtime was set back (ctime still moves), and a symlink retargeted", () => {
    const dir = repo();
    const file = path.join(dir, "a.ts");
    const before = statSync(file);
    writeFileSync(file, "// TODO: b\n"); // same length as "// TODO: a\n"
    utimesSync(file, before.atime, before.mtime);
    expect(ours(dir)).toEqual(["a.ts"]);
    deleteFiles(dir, ["link"]);
    symlinkSync("d.md", path.join(dir, "link"));
    expect(ours(dir)).toEqual(["a.ts", "link"]);
    expect(ours(dir)).toEqual(gitChanged(dir));
  });

  it("hashes a racily clean entry (not older than the index file), and trusts the stat data of an older one", () => {
    const dir = repo();
    const index = readIndex(gitDirsOf(dir)) as IndexSnapshot;
    const st = lstatSync(path.join(dir, "a.ts"), { bigint: true });
    writeFileSync(path.join(dir, "a.ts"), "// TODO: other content\n");
    // An entry whose recorded stat data is exactly the file's current one, with another blob id: only its content tells.
    const now = lstatSync(path.join(dir, "a.ts"), { bigint: true });
    const entry = (index.entries.find((e) => e.path === "a.ts") ?? {}) as IndexSnapshot["entries"][number];
    Object.assign(entry, {
      mtimeS: Number(now.mtimeNs / 1_000_000_000n),
      mtimeN: Number(now.mtimeNs % 1_000_000_000n),
      ctimeS: Number(now.ctimeNs / 1_000_000_000n),
      ctimeN: Number(now.ctimeNs % 1_000_000_000n),
      size: Number(now.size),
      ino: Number(now.ino & 0xffffffffn),
    });
    expect(st.size).not.toBe(now.size);
    const ms = lstatSync(path.join(dir, "a.ts")).mtimeMs;
    expect([...changedFiles(dir, { ...index, mtimeMs: ms })]).toEqual(["a.ts"]); // racy: hashed
    // A microsecond older than the index: stat trusted, as git does.
    expect([...changedFiles(dir, { ...index, mtimeMs: ms + 0.001 })]).toEqual([]);
  });

  it("declines indexes it cannot read exactly: intent-to-add, split, unmerged, SHA-256", () => {
    const dir = repo();
    git(dir, ["add", "-N", "-f", "--", "src/deep/c.ts"]);
    writeFiles(dir, { "ita.ts": "x\n" });
    git(dir, ["add", "-N", "ita.ts"]);
    expect(readIndex(gitDirsOf(dir))).toBeUndefined();
    git(dir, ["rm", "-q", "--cached", "ita.ts"]);
    expect(readIndex(gitDirsOf(dir))).toBeDefined();
    git(dir, ["update-index", "--split-index"]);
    expect(readIndex(gitDirsOf(dir))).toBeUndefined();
    git(dir, ["update-index", "--no-split-index"]);
    git(dir, ["checkout", "-q", "-b", "other"]);
    commitFiles(dir, { "a.ts": "// TODO: other\n" });
    git(dir, ["checkout", "-q", "main"]);
    commitFiles(dir, { "a.ts": "// TODO: main\n" });
    expect(() => git(dir, ["merge", "-q", "other"])).toThrow(); // a conflict: stages 1-3 in the index
    expect(readIndex(gitDirsOf(dir))).toBeUndefined();
    const sha256 = makeTempDir();
    cleanup.push(sha256);
    git(sha256, ["init", "-q", "--object-format=sha256"]);
    writeFiles(sha256, { "a.ts": "x\n" });
    git(sha256, ["add", "a.ts"]);
    expect(readIndex(gitDirsOf(sha256))).toBeUndefined();
  });

  it("reads HEAD through a loose or packed branch, or detached", () => {
    const dir = repo();
    const head = git(dir, ["rev-parse", "HEAD"]).trim();
    expect(readHeadCommit(gitDirsOf(dir))).toBe(head);
    git(dir, ["pack-refs", "--all"]);
    expect(readHeadCommit(gitDirsOf(dir))).toBe(head);
    git(dir, ["checkout", "-q", "--detach", "HEAD~1"]);
    expect(readHeadCommit(gitDirsOf(dir))).toBe(git(dir, ["rev-parse", "HEAD"]).trim());
    git(dir, ["checkout", "-q", "--orphan", "empty"]);
    expect(readHeadCommit(gitDirsOf(dir))).toBeUndefined();
  });
});
