import { statSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mirrorPath, syncMirror } from "../../../src/git/workspace.js";
import { openDb } from "../../../src/store/db.js";
import { cloneBare, commitFiles, initRepo, makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});
const mode = (p: string) => statSync(p).mode & 0o777;

describe("the data dir", () => {
  it("is created private (0700): it holds the store, mirrors of private code and transcripts", async () => {
    const parent = makeTempDir();
    dirs.push(parent);
    const dataDir = path.join(parent, "data", "nested");
    const db = await openDb(dataDir);
    await db.destroy();
    expect(mode(path.join(parent, "data"))).toBe(0o700);
    expect(mode(dataDir)).toBe(0o700);

    const work = initRepo();
    dirs.push(work);
    commitFiles(work, { "a.txt": "private code\n" });
    const remote = cloneBare(work);
    dirs.push(path.dirname(remote));
    const fresh = path.join(parent, "other-data");
    const mirror = await syncMirror({ dataDir: fresh, fullName: "o/r", cloneUrl: remote, defaultBranch: "main" });
    expect(mirror).toBe(mirrorPath(fresh, "o/r"));
    for (let dir = path.dirname(mirror); dir.startsWith(fresh); dir = path.dirname(dir)) expect([dir, mode(dir)]).toEqual([dir, 0o700]);
  });
});
