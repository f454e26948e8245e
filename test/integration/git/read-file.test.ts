import { symlinkSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readFileAtCommit } from "../../../src/git/read-file.js";
import { CommandError } from "../../../src/util/exec.js";
import { cloneBare, commitAll, commitFiles, deleteFiles, initRepo, removeDir, writeFiles } from "../../fixtures/git-repo.js";

describe("readFileAtCommit", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) removeDir(dir);
  });

  it("reads a root file at a commit of a bare mirror, and says absent when that commit has none", async () => {
    const work = initRepo();
    dirs.push(work);
    const first = commitFiles(work, { ".gitattributes": "vendor/** linguist-vendored\n", "a.ts": "x\n" });
    deleteFiles(work, [".gitattributes"]);
    const second = commitAll(work, "drop it");
    const mirror = cloneBare(work);
    dirs.push(path.dirname(mirror));
    expect(await readFileAtCommit(mirror, first, ".gitattributes", 1024)).toEqual({ commit: first, text: "vendor/** linguist-vendored\n" });
    expect(await readFileAtCommit(mirror, "refs/heads/main", ".gitattributes", 1024)).toEqual({ commit: second, text: undefined });
  });

  it("reads a symlink or a directory of that name as absent, refuses a file over the cap, and fails on an unknown commit", async () => {
    const work = initRepo();
    dirs.push(work);
    writeFiles(work, { "docs/.gitattributes/readme.md": "a directory, not rules\n", "big/.gitattributes": "x".repeat(2048) });
    symlinkSync("elsewhere", path.join(work, ".gitattributes"));
    const head = commitAll(work);
    expect(await readFileAtCommit(work, head, ".gitattributes", 1024)).toEqual({ commit: head, text: undefined });
    expect(await readFileAtCommit(work, head, "docs/.gitattributes", 1024)).toEqual({ commit: head, text: undefined });
    await expect(readFileAtCommit(work, head, "big/.gitattributes", 1024)).rejects.toMatchObject({
      code: "SCAN_FAILED",
      message: /2048 bytes/,
    });
    expect((await readFileAtCommit(work, head, "big/.gitattributes", 4096)).text).toHaveLength(2048);
    await expect(readFileAtCommit(work, "0".repeat(40), ".gitattributes", 1024)).rejects.toThrow(CommandError);
  });
});
