import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { attributionHorizon } from "../../../src/scanners/attribution-horizon.js";
import type { LineAuthor, Touch } from "../../../src/scanners/blame-history.js";
import type { BlobReader } from "../../../src/scanners/blob-reader.js";
import { walkByBlobs } from "../../../src/scanners/blob-walk.js";
import { type GitSource, scannerGitEnv } from "../../../src/scanners/git-source.js";
import { readHistory } from "../../../src/scanners/history-log.js";
import { scanTodos, type TodoSignals } from "../../../src/scanners/todo.js";
import {
  type CommitAuthor,
  commitFiles,
  fullBlame,
  git,
  initRepo,
  makeTempDir,
  recordingGit,
  removeDir,
  writeFiles,
} from "../../fixtures/git-repo.js";

/** The scan's clock: the horizon (age cap + 1 day) falls in April 2024. */
const NOW = new Date("2024-12-01T00:00:00Z");
const by = (name: string, date: string): CommitAuthor => ({ name, email: `${name.toLowerCase()}@example.com`, date });
const OLD = by("Olga", "2022-02-02T10:00:00Z");
const MID = by("Mia", "2024-08-01T10:00:00Z");
const SIDE = by("Sid", "2024-09-01T10:00:00Z");
const NEXT = by("Ned", "2024-10-01T10:00:00Z");
const LATE = by("Lu", "2024-11-01T10:00:00Z");
/** Above `EARLY_BLAME_CHANGED` (32) files changed since the boundary: otherwise the first 8 go to `git blame` directly. */
const FILES = 34;

const cleanup: string[] = [];
afterEach(() => {
  for (const dir of cleanup.splice(0)) removeDir(dir);
});

const filler = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `int ${tag}_${i} = ${i};`);
const name = (i: number) => `src/m${i}.c`;

describe("the horizon's history replayed by blobs", () => {
  it("attributes many files as full git blame does: lines between two changes, repeated TODO text, a merge", async () => {
    const dir = initRepo();
    cleanup.push(dir);
    // Before the horizon: each file has an old TODO, and two copies of the same TODO text.
    const body = (i: number, extra: string[]) => [
      "// TODO: old and untouched",
      ...filler(20, `a${i}`),
      "// TODO: same words",
      ...extra,
      ...filler(20, `b${i}`),
      "// TODO: same words",
      ...filler(20, `c${i}`),
    ];
    const files = (extra: (i: number) => string[], edit: (i: number, lines: string[]) => string[] = (_, l) => l) =>
      Object.fromEntries(Array.from({ length: FILES }, (_, i) => [name(i), `${edit(i, body(i, extra(i))).join("\n")}\n`]));
    commitFiles(
      dir,
      files(() => []),
      OLD,
      "old",
    );
    // Within it: a FIXME added to every file, then a third copy of the repeated text in half of them.
    commitFiles(
      dir,
      files((i) => [`// FIXME: added in the middle of ${i}`]),
      MID,
      "fixme",
    );
    const third = (i: number, lines: string[]) => (i % 2 ? [...lines.slice(0, 10), "// TODO: same words", ...lines.slice(10)] : lines);
    commitFiles(
      dir,
      files((i) => [`// FIXME: added in the middle of ${i}`], third),
      NEXT,
      "third copy",
    );
    // A side branch rewrites one file's FIXME; the merge takes it (blame follows the side's commit).
    git(dir, ["checkout", "-q", "-b", "side", "HEAD"]);
    const sideEdit = (i: number) => [i === 0 ? "// FIXME: rewritten on the side" : `// FIXME: added in the middle of ${i}`];
    commitFiles(dir, files(sideEdit, third), SIDE, "side");
    git(dir, ["checkout", "-q", "main"]);
    git(dir, ["merge", "-q", "--no-ff", "--no-edit", "side"], LATE);
    // Last: two changes far apart in every file, around the FIXME (both ends of the file change).
    const ends = (i: number, lines: string[]) => [`/* header ${i} */`, ...third(i, lines), `/* footer ${i} */`];
    writeFiles(dir, files(sideEdit, ends));
    git(dir, ["commit", "-q", "-am", "around"], LATE);

    const { result, calls } = await recordingGit(() => scanTodos({ cwd: dir, now: NOW }));
    const horizon = attributionHorizon(NOW)?.toISOString() ?? "";
    expect(result.findings).toHaveLength(FILES * 4 + FILES / 2);
    let inside = 0;
    for (const f of result.findings) {
      const real = fullBlame(dir, f.path ?? "").get(f.line ?? 0);
      const s = f.signals as TodoSignals;
      if (!real) throw new Error(`no blame for ${f.path}:${f.line}`);
      if (real.authoredAt < horizon) {
        expect([f.path, f.line, s.authoredBefore, s.authoredAt]).toEqual([f.path, f.line, true, horizon]);
      } else {
        inside++;
        expect([f.path, f.line, s.author, s.authoredAt]).toEqual([f.path, f.line, real.author, real.authoredAt]);
      }
    }
    expect(inside).toBe(FILES + FILES / 2); // the FIXMEs and the third copies
    // Replayed by blobs: one `git cat-file --batch`, git's diffs only where a line's text repeats
    // (`diff-tree --stdin`), no `git log -p`; the merged file goes to blame.
    expect(calls.filter((c) => c.startsWith("cat-file --batch"))).toHaveLength(1);
    expect(calls.some((c) => c.includes("diff-tree --stdin -r -p"))).toBe(true);
    expect(calls.filter((c) => / log .*-p /.test(` ${c} `))).toEqual([]);
    expect(result.attribution.replayedFiles).toBeGreaterThanOrEqual(FILES - 1);
  });

  it.each([
    ["a few files: the boundary diff, then git blame", 0],
    ["many files: the replay by blobs", FILES],
    ["no boundary (all history within the horizon): the replay by blobs", -1],
  ])(
    "attributes files whose names git quotes (tab, newline, quote, backslash, \\001) as full git blame does, with %s",
    async (_, plain) => {
      const dir = initRepo();
      cleanup.push(dir);
      const odd = ["ta\tb.c", "new\nline.c", 'q"uote.c', "back\\slash.c", "ctl\x01.c", "sp ace.c", "ünï.c"];
      const names = [...odd, ...Array.from({ length: Math.max(0, plain) }, (_, i) => name(i))];
      const content = (fixme: boolean) => (i: number) => ["// TODO: old", ...filler(10, `v${i}`), ...(fixme ? [`// FIXME: new ${i}`] : [])];
      const write = (lines: (i: number) => string[]) => Object.fromEntries(names.map((n, i) => [n, `${lines(i).join("\n")}\n`]));
      commitFiles(dir, write(content(false)), plain < 0 ? MID : OLD, "old");
      commitFiles(dir, write(content(true)), NEXT, "fixme");
      commitFiles(
        dir,
        write((i) => [...content(true)(i), "int end;"]),
        LATE,
        "end",
      );

      const result = await scanTodos({ cwd: dir, now: NOW });
      const horizon = attributionHorizon(NOW)?.toISOString() ?? "";
      expect(
        result.findings
          .map((f) => f.path)
          .filter((p) => odd.includes(p ?? ""))
          .sort(),
      ).toEqual([...odd, ...odd].sort());
      for (const f of result.findings) {
        const real = fullBlame(dir, f.path ?? "").get(f.line ?? 0);
        const s = f.signals as TodoSignals;
        if (!real) throw new Error(`no blame for ${f.path}:${f.line}`);
        if (real.authoredAt < horizon) expect([f.path, f.line, s.authoredBefore, s.authoredAt]).toEqual([f.path, f.line, true, horizon]);
        else expect([f.path, f.line, s.author, s.authoredAt]).toEqual([f.path, f.line, real.author, real.authoredAt]);
      }
      expect(result.findings.filter((f) => (f.signals as TodoSignals).author === NEXT.name)).toHaveLength(names.length);
      // A commit scan of a bare mirror, as the app runs it, reads every one of them too (cat-file takes a name per line).
      const bare = makeTempDir();
      cleanup.push(bare);
      git(bare, ["clone", "-q", "--bare", dir, "mirror.git"]);
      expect((await scanTodos({ cwd: path.join(bare, "mirror.git"), rev: "HEAD", now: NOW })).findings).toEqual(result.findings);
    },
  );

  it("reads every file's touches within the horizon, and gives up past a line limit instead of holding them all", async () => {
    const dir = initRepo();
    cleanup.push(dir);
    for (let i = 0; i < 5; i++) commitFiles(dir, { [`f${i}.c`]: `// TODO: ${i}\n` }, LATE, `c${i}`);
    const source = { dir, env: scannerGitEnv(dir) } as GitSource;
    const all = await readHistory(source, "HEAD", undefined, { since: new Date("2024-10-01T00:00:00Z"), rawOnly: true });
    expect([...all.touches.keys()].sort()).toEqual(["f0.c", "f1.c", "f2.c", "f3.c", "f4.c"]);
    const capped = readHistory(source, "HEAD", undefined, { since: new Date("2024-10-01T00:00:00Z"), rawOnly: true, maxLines: 4 });
    await expect(capped).rejects.toMatchObject({ code: "COMMAND_FAILED" });
  });
});

describe("walkByBlobs", () => {
  it("reports a walk it cannot follow while the other walks still go on, so its git blame overlaps with them", async () => {
    const by = (commit: string): LineAuthor => ({ commit, author: commit, authoredAt: "2024-10-01T10:00:00.000Z" });
    const touch = (commit: string, oldBlob: string, newBlob: string): Touch => ({
      by: by(commit),
      root: false,
      status: "M",
      oldBlob,
      newBlob,
    });
    const blobs: Record<string, string> = { b3: "x\nTODO two\ny\n", b2: "x\nTODO two\n", b1: "x\n" };
    const events: string[] = [];
    let brokenSeen: () => void = () => {};
    const seen = new Promise<void>((resolve) => {
      brokenSeen = resolve;
    });
    // The read of the second level waits until the broken walk has been reported: were it reported
    // only when every walk had ended, the walk would never end (and the test would time out).
    const reader: BlobReader = {
      get: async () => undefined,
      read: async (names) => {
        events.push(`read ${[...names].sort().join(",")}`);
        if (names.includes("b1")) await seen;
        return new Map(names.map((n) => [n, blobs[n] === undefined ? undefined : Buffer.from(blobs[n] as string)]));
      },
      close: async () => true,
    };
    const targets = new Map([
      ["a.c", { lines: [1], blob: "a2" }],
      ["b.c", { lines: [2], blob: "b3" }],
    ]);
    const touches = new Map([
      ["a.c", [touch("merge-side", "a1", "a-other")]], // the chain does not start at the scanned blob: a merge came between
      ["b.c", [touch("c3", "b2", "b3"), touch("c2", "b1", "b2")]],
    ]);
    const noPatches = async (): Promise<never> => {
      throw new Error("no patch is needed");
    };
    const ends = await walkByBlobs(reader, targets, touches, undefined, noPatches, (file) => {
      events.push(`broken ${file}`);
      brokenSeen();
    });
    expect(events).toEqual(["read b2,b3", "broken a.c", "read b1"]);
    expect(ends.get("a.c")).toEqual({ kind: "broken" });
    expect(ends.get("b.c")).toEqual({ kind: "done", found: new Map([[2, by("c2")]]) });
  }, 2000);
});
