/**
 * The snapshot of an agent's work must see every change, including one git can only tell by its
 * content: the same size, the same mtime second as the index (Debian's git compares whole seconds),
 * the same inode. git handles that case ("racily clean": the file is not older than the index file)
 * by comparing content, which needs the private index copy to keep the real index's times. Real git.
 */
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { snapshotTree, treeChanges } from "../../../src/executor/verify-tree.js";
import { git, initRepo, removeDir } from "../../fixtures/git-repo.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

describe("snapshotTree", () => {
  it("sees a same-size edit made in the index's own second", async () => {
    const dir = initRepo();
    dirs.push(dir);
    // ctime cannot be set back; without trustctime git judges by mtime, size and inode alone.
    git(dir, ["config", "core.trustctime", "false"]);
    // A checkout an hour ago: the file and the index written in one second, back then, so that the
    // copy's own time (now) is surely later than both.
    const then = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
    const file = path.join(dir, "test", "add.test.js");
    mkdirSync(path.dirname(file));
    writeFileSync(file, "expect(add(1, 2)).toBe(3);\n");
    utimesSync(file, then, then);
    git(dir, ["add", "."]);
    git(dir, ["commit", "-q", "-m", "base"]);
    const base = git(dir, ["rev-parse", "HEAD"]).trim();
    // The agent's edit in that second, same size and inode: stat data as the index recorded it,
    // and the index file no newer than the file (so git must look at the content).
    writeFileSync(file, "expect(add(1, 2)).toBe(4);\n");
    utimesSync(file, then, then);
    utimesSync(path.join(dir, ".git", "index"), then, then);
    const tree = await snapshotTree(dir);
    expect(await treeChanges(dir, base, tree)).toEqual([{ status: "M", path: "test/add.test.js" }]);
  });
});
