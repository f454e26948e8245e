import { statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { scanTodos } from "../../../src/scanners/todo.js";
import { attributionStore } from "../../../src/store/attribution.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { commitFiles, deleteFiles, git, initRepo, makeTempDir, recordingGit, removeDir, writeFiles } from "../../fixtures/git-repo.js";

const NOW = new Date("2024-06-01T00:00:00Z");
const cleanup: string[] = [];
const databases: Db[] = [];
afterEach(async () => {
  for (const db of databases.splice(0)) await db.destroy();
  for (const dir of cleanup.splice(0)) removeDir(dir);
});

async function cacheFor(dir: string) {
  const data = makeTempDir();
  cleanup.push(data);
  const db = await openDb(data);
  databases.push(db);
  const { id } = await upsertRepository(db, { fullName: dir });
  return attributionStore(db, id);
}

/** Titles and lines of a scan's findings. */
const titles = (r: Awaited<ReturnType<typeof scanTodos>>) => r.findings.map((f) => `${f.path}:${f.line} ${f.title}`);

describe("warm rescans of a work tree judged from its files", () => {
  it("finds every work-tree change an uncached scan finds, with no git process (an edit with its mtime put back, a file touched)", async () => {
    const dir = initRepo();
    cleanup.push(dir);
    commitFiles(dir, { "a.ts": "// TODO: alpha\nx();\n", "b.ts": "// FIXME: beta\n", "c.ts": "// HACK: gamma\n" });
    const cache = await cacheFor(dir);
    const check = async () => {
      const warm = await scanTodos({ cwd: dir, now: NOW, cache });
      expect(titles(warm)).toEqual(titles(await scanTodos({ cwd: dir, now: NOW })));
      return warm;
    };
    await check(); // cold: records HEAD and the index's stamp
    const unchanged = await recordingGit(() => scanTodos({ cwd: dir, now: NOW, cache }));
    expect([unchanged.result.filesRead, unchanged.calls]).toEqual([0, []]); // nothing read, not even git status

    // Touched, same bytes: only the stat data changed; the content says unchanged.
    const c = path.join(dir, "c.ts");
    utimesSync(c, new Date(), new Date(Date.now() + 5_000));
    const touched = await recordingGit(() => scanTodos({ cwd: dir, now: NOW, cache }));
    expect([touched.result.filesRead, touched.calls]).toEqual([0, []]);

    // Same size, mtime put back: the ctime still differs from the index's record.
    const a = path.join(dir, "a.ts");
    const before = statSync(a);
    writeFileSync(a, "// TODO: omega\nx();\n");
    utimesSync(a, before.atime, before.mtime);
    expect(titles(await check())).toContain("a.ts:1 omega");

    deleteFiles(dir, ["b.ts"]);
    expect(titles(await check())).not.toContain("b.ts:1 beta");

    writeFiles(dir, { "untracked.ts": "// TODO: not tracked, as git grep reads tracked files only\n" });
    expect(titles(await check()).some((t) => t.startsWith("untracked.ts"))).toBe(false);

    writeFiles(dir, { "staged.ts": "// TODO: staged\n" });
    git(dir, ["add", "staged.ts"]);
    expect(titles(await check())).toContain("staged.ts:1 staged");

    // Back to the commit: the uncommitted files are clean again, and their findings with them.
    git(dir, ["reset", "-q", "--hard"]);
    const clean = await check();
    expect(titles(clean)).toEqual(["a.ts:1 alpha", "b.ts:1 beta", "c.ts:1 gamma"]);
    expect(clean.findings.every((f) => f.signals.author === "Ada Lovelace")).toBe(true);
  });

  it("keeps the index stamp with the uncommitted paths, and reads a record written before it (a plain list)", async () => {
    const data = makeTempDir();
    cleanup.push(data);
    const db = await openDb(data);
    databases.push(db);
    const { id } = await upsertRepository(db, { fullName: "octo/stamp" });
    const cache = attributionStore(db, id);
    const files = [{ path: "a.ts", blob: "b".repeat(40) }];
    await cache.save("s", [], { commit: "c".repeat(40), files, dirty: ["x.ts"], index: "f".repeat(40) });
    expect(await cache.lastScan("s")).toEqual({ commit: "c".repeat(40), files, dirty: ["x.ts"], index: "f".repeat(40) });
    await db
      .updateTable("attribution_scans")
      .set({ dirty: JSON.stringify(["y.ts"]) })
      .execute();
    expect(await cache.lastScan("s")).toEqual({ commit: "c".repeat(40), files, dirty: ["y.ts"] });
  });
  it("treats damaged cache rows as missing: the scan attributes again, rewrites them, and finds what an uncached scan finds", async () => {
    const dir = initRepo();
    cleanup.push(dir);
    commitFiles(dir, { "a.ts": "// TODO: a\n", "b.ts": "// FIXME: b\nx();\n" });
    commitFiles(dir, { "b.ts": "// FIXME: b\nx();\n// TODO: later\n" });
    const data = makeTempDir();
    cleanup.push(data);
    const db = await openDb(data);
    databases.push(db);
    const { id } = await upsertRepository(db, { fullName: dir });
    const cache = attributionStore(db, id);
    const uncached = await scanTodos({ cwd: dir, now: NOW });
    expect((await scanTodos({ cwd: dir, now: NOW, cache })).findings).toEqual(uncached.findings);

    const damages = [
      () => db.updateTable("attribution_versions").set({ findings: "{not json" }).where("path", "=", "a.ts").execute(),
      () => db.updateTable("attribution_versions").set({ findings: "[[1, 2]]" }).execute(),
      () => db.updateTable("attribution_scans").set({ files: "[" }).execute(),
      () => db.updateTable("attribution_versions").set({ authors: "{}" }).execute(),
    ];
    for (const damage of damages) {
      await damage();
      const again = await scanTodos({ cwd: dir, now: NOW, cache });
      expect(again.findings).toEqual(uncached.findings);
      const warm = await scanTodos({ cwd: dir, now: NOW, cache }); // repaired: nothing read
      expect([warm.filesRead, warm.attribution.cachedFiles]).toEqual([0, 2]);
      expect(warm.findings).toEqual(uncached.findings);
    }
    // Authors are read where a replay of new commits ends: damaged, the changed file is attributed from scratch.
    await db.updateTable("attribution_versions").set({ authors: "[[" }).execute();
    commitFiles(dir, { "b.ts": "// TODO: first\n// FIXME: b\nx();\n// TODO: later\n" });
    expect((await scanTodos({ cwd: dir, now: NOW, cache })).findings).toEqual((await scanTodos({ cwd: dir, now: NOW })).findings);
  });
});
