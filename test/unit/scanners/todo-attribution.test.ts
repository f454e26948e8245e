import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { rankBacklog } from "../../../src/prioritizer/index.js";
import { attributionHorizon } from "../../../src/scanners/attribution-horizon.js";
import { scanTodos, type TodoSignals } from "../../../src/scanners/todo.js";
import type { Finding } from "../../../src/scanners/types.js";
import { attributionStore } from "../../../src/store/attribution.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { listOpenFindings, syncFindings } from "../../../src/store/findings.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { type CommitAuthor, commitFiles, fullBlame, git, initRepo, makeTempDir, removeDir, writeFiles } from "../../fixtures/git-repo.js";

/** The scan's clock: the horizon (age cap + 1 day) falls in April 2024. */
const NOW = new Date("2024-12-01T00:00:00Z");
const by = (name: string, date: string): CommitAuthor => ({ name, email: `${name.toLowerCase()}@example.com`, date });
const OLD = by("Olga", "2022-02-02T10:00:00Z");
const MID = by("Mia", "2024-09-01T10:00:00Z");
const SIDE = by("Sid", "2024-10-01T10:00:00Z");
const MERGER = by("Mo", "2024-10-05T10:00:00Z");
const LATE = by("Lu", "2024-11-01T10:00:00Z");

const cleanup: string[] = [];
const databases: Db[] = [];
afterEach(async () => {
  for (const db of databases.splice(0)) await db.destroy();
  for (const dir of cleanup.splice(0)) removeDir(dir);
});

function temp(dir: string): string {
  cleanup.push(dir);
  return dir;
}

async function store(): Promise<Db> {
  const db = await openDb(temp(makeTempDir()));
  databases.push(db);
  return db;
}

describe("attribution within the ranking's horizon", () => {
  it("gives the authors, dates and ranks full git blame gives, for the ranking's purposes", async () => {
    const dir = temp(initRepo());
    commitFiles(dir, { "core.c": "// TODO: ancient\nint a;\n// FIXME: will move\nint b;\n", "old.py": "# TODO: renamed later\n" }, OLD);
    commitFiles(dir, { "core.c": "// TODO: ancient\nint a;\n// FIXME: will move\nint b;\n// HACK: recent\n" }, MID);
    git(dir, ["mv", "old.py", "new.py"], MID);
    commitFiles(dir, { "m.js": "// TODO: base\n// XXX: both sides\n" }, MID, "rename, new file");
    git(dir, ["checkout", "-q", "-b", "side"]);
    commitFiles(dir, { "m.js": "// TODO: base\n// XXX: side says\n// BUG: from side\n" }, SIDE);
    git(dir, ["checkout", "-q", "main"]);
    commitFiles(dir, { "m.js": "// TODO: base\n// XXX: main says\n" }, MID);
    // A conflicting merge, resolved by hand: the resolved line is the merge commit's own.
    try {
      git(dir, ["merge", "-q", "--no-edit", "side"], MERGER);
    } catch {
      writeFiles(dir, { "m.js": "// TODO: base\n// XXX: resolved in the merge\n// BUG: from side\n" });
      git(dir, ["commit", "-q", "-am", "merge side"], MERGER);
    }
    // The FIXME moves below `int b;` (a delete and an add, so blame gives it to this commit).
    commitFiles(dir, { "core.c": "// TODO: ancient\nint a;\nint b;\n// FIXME: will move\n// HACK: recent\n" }, LATE);

    const horizon = attributionHorizon(NOW)?.toISOString() ?? "";
    const { findings, attribution } = await scanTodos({ cwd: dir, now: NOW });
    expect(findings.map((f) => f.title).sort()).toEqual(
      ["ancient", "base", "from side", "recent", "renamed later", "resolved in the merge", "will move"].sort(),
    );
    const truth: Finding[] = [];
    for (const f of findings) {
      const real = fullBlame(dir, f.path ?? "").get(f.line ?? 0);
      if (!real) throw new Error(`no blame for ${f.path}:${f.line}`);
      const s = f.signals as TodoSignals;
      if (real.authoredAt < horizon) {
        // Older than the horizon: the bound, which scores like the true date, and the author left to be resolved.
        expect([f.title, s.authoredBefore, s.authoredAt, s.author]).toEqual([f.title, true, horizon, undefined]);
      } else {
        expect([f.title, s.author, s.authoredAt, s.authoredBefore]).toEqual([f.title, real.author, real.authoredAt, undefined]);
      }
      truth.push({ ...f, signals: { marker: s.marker, author: real.author, authoredAt: real.authoredAt } });
    }
    const expected = new Map([
      ["ancient", OLD.name],
      ["renamed later", OLD.name],
      ["recent", MID.name],
      ["base", MID.name],
      ["from side", SIDE.name],
      ["resolved in the merge", MERGER.name],
      ["will move", LATE.name],
    ]);
    for (const f of truth) expect([f.title, f.signals.author]).toEqual([f.title, expected.get(f.title)]);
    expect(attribution.beforeHorizonLines).toBe(2);
    expect(attribution.blamedFiles).toBeGreaterThan(0); // the merged file and the renamed one

    // Ranked through the current rankBacklog, from real store rows: same order, same scores.
    const db = await store();
    const ranked = async (name: string, list: Finding[]) => {
      const { id } = await upsertRepository(db, { fullName: name });
      await syncFindings(db, id, list, { kinds: ["todo"] });
      return rankBacklog(await listOpenFindings(db, id), NOW).map((r) => [r.fingerprint, r.score, r.rank]);
    };
    expect(await ranked("new/attribution", findings)).toEqual(await ranked("full/blame", truth));
  });

  it("rescans an unchanged repository from the store without git log or git blame, and a new commit by replaying only it", async () => {
    const dir = temp(initRepo());
    commitFiles(dir, { "a.ts": "// TODO: one\n", "b.ts": "// FIXME: two\nx();\n", "c.md": "no markers\n" }, MID);
    commitFiles(dir, { "b.ts": "// FIXME: two\nx();\n// TODO: three\n" }, SIDE);
    const shim = temp(makeTempDir());
    const log = path.join(shim, "calls.log");
    const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    writeFileSync(path.join(shim, "git"), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`);
    chmodSync(path.join(shim, "git"), 0o755);
    const calls = (): string[] => {
      const text = readFileSync(log, "utf8");
      writeFileSync(log, "");
      return text.split("\n").filter(Boolean);
    };
    const history = (list: string[]) => list.filter((c) => / (log|blame) /.test(` ${c} `));
    const db = await store();
    const { id } = await upsertRepository(db, { fullName: "octo/cached" });
    const cache = attributionStore(db, id);
    const savedPath = process.env.PATH;
    process.env.PATH = `${shim}:${savedPath}`;
    try {
      writeFileSync(log, "");
      const cold = await scanTodos({ cwd: dir, now: NOW, cache });
      expect(history(calls()).length).toBeGreaterThan(0);
      expect(cold.findings.map((f) => f.signals.author)).toEqual([MID.name, MID.name, SIDE.name]);

      const warm = await scanTodos({ cwd: dir, now: NOW, cache });
      // Not even git status: HEAD and the index are as the last scan left them, and the files match the index.
      expect(calls()).toEqual([]);
      expect(warm.findings).toEqual(cold.findings);
      expect([warm.filesRead, warm.attribution.cachedFiles, warm.attribution.historyProcesses]).toEqual([0, 2, 0]);

      // A new commit: only its file is read, and only the commits since the last scan are replayed.
      const base = git(dir, ["rev-parse", "HEAD"]).trim();
      commitFiles(dir, { "b.ts": "// TODO: zero\n// FIXME: two\nx();\n// TODO: three\n" }, LATE);
      const next = await scanTodos({ cwd: dir, now: NOW, cache });
      const logs = history(calls());
      expect(logs.length).toBe(1);
      expect(logs[0]).toContain(`^${base}`);
      expect(next.filesRead).toBe(1);
      expect(next.findings.map((f) => [f.title, f.line, f.signals.author])).toEqual([
        ["one", 1, MID.name],
        ["zero", 1, LATE.name],
        ["two", 2, MID.name],
        ["three", 4, SIDE.name],
      ]);
      const uncached = await scanTodos({ cwd: dir, now: NOW });
      expect(next.findings).toEqual(uncached.findings);
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it("scans a shallow clone and a partial clone without errors, counting what they cannot attribute", async () => {
    const origin = temp(initRepo());
    commitFiles(origin, { "a.go": "// TODO: first\n", "b.go": "// TODO: untouched\n" }, OLD);
    commitFiles(origin, { "a.go": "// TODO: first\n// FIXME: second\n" }, MID);
    commitFiles(origin, { "a.go": "// TODO: first\n// FIXME: second\n// HACK: third\n" }, LATE);
    git(origin, ["config", "uploadpack.allowFilter", "true"]);
    const parent = temp(makeTempDir());
    git(parent, ["clone", "-q", "--depth", "2", `file://${origin}`, "shallow"]);
    git(parent, ["clone", "-q", "--filter=blob:none", `file://${origin}`, "partial"]);

    const shallow = await scanTodos({ cwd: path.join(parent, "shallow"), now: NOW });
    const byTitle = new Map(shallow.findings.map((f) => [f.title, f.signals as TodoSignals]));
    expect(shallow.attribution).toMatchObject({ shallow: true, partial: false });
    expect(byTitle.get("third")).toMatchObject({ author: LATE.name, authoredAt: "2024-11-01T10:00:00.000Z" });
    // The boundary commit stands in for older ones: an upper bound, counted.
    expect(byTitle.get("first")).toMatchObject({ authoredBefore: true });
    expect(shallow.attribution.shallowBoundaryLines).toBeGreaterThan(0);

    const partialDir = path.join(parent, "partial");
    const objects = () => git(partialDir, ["count-objects", "-v"]);
    const before = objects();
    const partial = await scanTodos({ cwd: partialDir, now: NOW });
    expect(objects()).toBe(before); // nothing was fetched on demand
    expect(partial.attribution).toMatchObject({ shallow: false, partial: true });
    const partialBy = new Map(partial.findings.map((f) => [f.title, f.signals as TodoSignals]));
    expect(partialBy.get("untouched")).toMatchObject({ authoredBefore: true }); // untouched within the horizon: no blob needed
    expect(partial.attribution.unattributedLines).toBe(3); // a.go changed within the horizon: its old blobs are not here
    expect(partial.findings.map((f) => f.title).sort()).toEqual(["first", "second", "third", "untouched"]);

    // With a store, what could not be attributed is not remembered as unknown: it is read again, and nothing is lost.
    const db = await store();
    const cache = attributionStore(db, (await upsertRepository(db, { fullName: "octo/partial" })).id);
    const first = await scanTodos({ cwd: partialDir, now: NOW, cache });
    const again = await scanTodos({ cwd: partialDir, now: NOW, cache });
    expect(again.findings).toEqual(first.findings);
    expect(first.findings).toEqual(partial.findings);
    expect([again.filesRead, again.attribution.cachedFiles, again.attribution.unattributedLines]).toEqual([1, 1, 3]);
    expect(objects()).toBe(before);
  });
});
