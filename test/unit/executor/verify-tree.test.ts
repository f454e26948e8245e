import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkoutTree, restoreTree, snapshotTree, treeChanges } from "../../../src/executor/verify-tree.js";
import { commitFiles, git, initRepo, makeTempDir, removeDir, writeFiles } from "../../fixtures/git-repo.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});
function repo(): { dir: string; sha: string } {
  const dir = initRepo();
  dirs.push(dir);
  const sha = commitFiles(dir, { "a.txt": "a\n", "b.txt": "b\n", ".gitignore": "cache/\n" });
  return { dir, sha };
}
const read = (dir: string, file: string) => readFileSync(path.join(dir, file), "utf8");

describe("worktree snapshots", () => {
  it("snapshots uncommitted and untracked work without touching the index, and restores it after tests wrote into the tree", async () => {
    const { dir, sha } = repo();
    writeFiles(dir, { "a.txt": "agent's a\n", "new.txt": "agent's new file\n" });
    rmSync(path.join(dir, "b.txt"));
    const statusBefore = git(dir, ["status", "--porcelain"]);
    const tree = await snapshotTree(dir);
    expect(git(dir, ["status", "--porcelain"])).toBe(statusBefore); // the real index is untouched
    expect((await treeChanges(dir, sha, tree)).map((c) => `${c.status} ${c.path}`)).toEqual(["M a.txt", "D b.txt", "A new.txt"]);

    // What a test run might do: rewrite a file, recreate a deleted one, drop reports and caches.
    writeFiles(dir, {
      "a.txt": "overwritten by a test\n",
      "b.txt": "snapshot update\n",
      "junit.xml": "<testsuites/>",
      "cache/x": "ignored",
    });
    rmSync(path.join(dir, "new.txt"));
    await restoreTree(dir, tree);

    expect(read(dir, "a.txt")).toBe("agent's a\n");
    expect(read(dir, "new.txt")).toBe("agent's new file\n");
    expect(existsSync(path.join(dir, "b.txt"))).toBe(false);
    expect(existsSync(path.join(dir, "junit.xml"))).toBe(false);
    expect(read(dir, "cache/x")).toBe("ignored"); // ignored files (node_modules, caches) stay
    expect(await snapshotTree(dir)).toBe(tree);
    expect(git(dir, ["status", "--porcelain"])).toBe(statusBefore);
  });

  it("checks out a commit, or some of its paths, into a directory without .git", async () => {
    const { dir, sha } = repo();
    writeFiles(dir, { "a.txt": "changed\n" });
    const target = path.join(makeTempDir(), "base");
    dirs.push(path.dirname(target));
    await checkoutTree(dir, sha, target);
    expect(read(target, "a.txt")).toBe("a\n");
    expect(existsSync(path.join(target, ".git"))).toBe(false);
    const tree = await snapshotTree(dir);
    await checkoutTree(dir, tree, target, ["a.txt"]);
    expect(read(target, "a.txt")).toBe("changed\n");
    expect(read(target, "b.txt")).toBe("b\n");
  });
});
