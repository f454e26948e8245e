import { afterEach, describe, expect, it } from "vitest";
import { MAX_FINDINGS, scanTodos } from "../../../src/scanners/todo.js";
import { attributionStore } from "../../../src/store/attribution.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { commitFiles, deleteFiles, git, initRepo, makeTempDir, removeDir } from "../../fixtures/git-repo.js";

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

const todos = (n: number, label: string) => Array.from({ length: n }, (_, i) => `// TODO: ${label} ${i + 1}\n`).join("");
type Result = Awaited<ReturnType<typeof scanTodos>>;
const shown = (r: Result) => r.findings.map((f) => `${f.path}:${f.line} ${f.title} ${f.signals.author ?? "-"}`);

describe("the cap on findings per scan", () => {
  it("keeps the first findings in path order, counts the rest, and gives warm rescans exactly what a cold scan gives", async () => {
    const dir = initRepo();
    cleanup.push(dir);
    commitFiles(dir, { "a.c": todos(3, "a"), "b.c": todos(3, "b"), "c.c": todos(2, "c"), "d.c": todos(1, "d") });
    const cache = await cacheFor(dir);
    const cold = (maxFindings?: number) => scanTodos({ cwd: dir, now: NOW, ...(maxFindings !== undefined && { maxFindings }) });
    const warm = () => scanTodos({ cwd: dir, now: NOW, cache, maxFindings: 5 });

    const all = await cold();
    expect([all.findings.length, all.leftOut]).toEqual([9, 0]);
    const first = await warm();
    expect(shown(first)).toEqual(shown(all).slice(0, 5));
    expect(shown(first).at(-1)).toBe("b.c:2 b 2 Ada Lovelace");
    expect(first.leftOut).toBe(4);

    // Unchanged: the cut file (b.c) and the files left out are read again, never served half from the store.
    const again = await warm();
    expect([shown(again), again.leftOut]).toEqual([shown(first), 4]);
    expect(again.filesRead).toBe(3);

    // A kept file goes: the findings left out last time come in, as a cold scan would give them.
    deleteFiles(dir, ["a.c"]);
    git(dir, ["commit", "-qam", "drop a"]);
    const after = await warm();
    const expected = await cold(5);
    expect([shown(after), after.leftOut]).toEqual([shown(expected), expected.leftOut]);
    expect(shown(after)).toEqual(["b.c:1 b 1", "b.c:2 b 2", "b.c:3 b 3", "c.c:1 c 1", "c.c:2 c 2"].map((s) => `${s} Ada Lovelace`));
    expect(after.leftOut).toBe(1);

    // A file that sorts first pushes the cut back into files the store holds whole.
    commitFiles(dir, { "0.c": todos(4, "zero") });
    const front = await warm();
    const expectedFront = await cold(5);
    expect([shown(front), front.leftOut]).toEqual([shown(expectedFront), expectedFront.leftOut]);
    expect(shown(front).map((s) => s.split(" ")[0])).toEqual(["0.c:1", "0.c:2", "0.c:3", "0.c:4", "b.c:1"]);
    expect(front.leftOut).toBe(5);
  });

  it("keeps the first findings in path order when many files arrive in no order, and cuts a push scan alike", async () => {
    const dir = initRepo();
    cleanup.push(dir);
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`f${String(i).padStart(2, "0")}.c`] = todos(1 + (i % 3), `f${i}`);
    commitFiles(dir, files);
    const all = await scanTodos({ cwd: dir, now: NOW, blame: false });
    const capped = await scanTodos({ cwd: dir, now: NOW, blame: false, maxFindings: 4 });
    expect(shown(capped)).toEqual(shown(all).slice(0, 4));
    expect(capped.leftOut).toBe(all.findings.length - 4);
    // A push scan of a few paths is cut the same way.
    const push = await scanTodos({ cwd: dir, rev: "HEAD", paths: ["f39.c", "f38.c", "f01.c"], now: NOW, blame: false, maxFindings: 3 });
    expect(push.findings.map((f) => `${f.path}:${f.line}`)).toEqual(["f01.c:1", "f01.c:2", "f38.c:1"]);
    expect(push.leftOut).toBe(3);
  });

  it(`holds at MAX_FINDINGS (${MAX_FINDINGS}) by default: two files of 60,000 TODO lines keep the first 100,000`, async () => {
    const dir = initRepo();
    cleanup.push(dir);
    // 1.5 MB each, under the 2 MB a file may have to be read at all.
    commitFiles(dir, { "one.c": todos(60_000, "one"), "two.c": todos(60_000, "two") });
    const result = await scanTodos({ cwd: dir, now: NOW, blame: false });
    expect(result.findings.length).toBe(MAX_FINDINGS);
    expect(result.leftOut).toBe(120_000 - MAX_FINDINGS);
    expect(result.findings.at(-1)).toMatchObject({ path: "two.c", line: MAX_FINDINGS - 60_000 });
  });
});
