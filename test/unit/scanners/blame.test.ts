import { afterEach, describe, expect, it } from "vitest";
import { logPathspecs } from "../../../src/scanners/history-log.js";
import { scanTodos } from "../../../src/scanners/todo.js";
import { type CommitAuthor, cloneBare, commitFiles, git, initRepo, removeDir, writeFiles } from "../../fixtures/git-repo.js";

const AUTHORS: CommitAuthor[] = ["Ada", "Bob", "Cy"].map((name, i) => ({
  name,
  email: `${name.toLowerCase()}@example.com`,
  date: `2024-0${i + 1}-15T10:00:00Z`,
}));

/** The fixtures' commits are from 2024: scanning "then" keeps every line inside the history horizon, so this compares exact authors. */
const NOW = new Date("2024-06-01T00:00:00Z");

const cleanup: string[] = [];
afterEach(() => {
  for (const dir of cleanup.splice(0)) removeDir(dir);
});

/** A small deterministic PRNG, so a failure replays exactly. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** Random edits: insert, delete and rewrite lines, with repeated lines so the diff has ambiguous alignments. */
function edit(lines: string[], next: () => number, tag: string): string[] {
  const out = [...lines];
  const edits = 1 + Math.floor(next() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(next() * (out.length + 1));
    const roll = next();
    if (roll < 0.4 || out.length < 3)
      out.splice(at, 0, ...Array.from({ length: 1 + Math.floor(next() * 3) }, (_, k) => `// TODO: ${tag}-${e}-${k}`));
    else if (roll < 0.6) out.splice(at, 0, "// TODO: same", "}");
    else if (roll < 0.8) out.splice(Math.min(at, out.length - 1), 1 + Math.floor(next() * 2));
    else out[Math.min(at, out.length - 1)] = `// TODO: ${tag}-rewritten-${e}`;
  }
  return out;
}

/** `git blame` of every line of `file` at `rev`: line -> author name. */
function blameAuthors(dir: string, rev: string, file: string): Map<number, string> {
  const porcelain = git(dir, ["blame", "--line-porcelain", rev, "--", file]);
  const authors = new Map<number, string>();
  let line = 0;
  for (const row of porcelain.split("\n")) {
    const header = /^[0-9a-f]{40} \d+ (\d+)/.exec(row);
    if (header) line = Number(header[1]);
    else if (row.startsWith("author ")) authors.set(line, row.slice(7));
  }
  return authors;
}

async function expectSameAsGitBlame(dir: string, cwd: string, rev: string | undefined): Promise<number> {
  const { findings } = await scanTodos({ cwd, now: NOW, ...(rev ? { rev } : {}) });
  const expected = new Map<string, Map<number, string>>();
  for (const f of findings) {
    if (!f.path || !f.line) continue;
    if (!expected.has(f.path)) expected.set(f.path, blameAuthors(dir, rev ?? "HEAD", f.path));
    expect([f.path, f.line, f.signals.author]).toEqual([f.path, f.line, expected.get(f.path)?.get(f.line)]);
  }
  return findings.length;
}

describe("blame attribution matches git blame", () => {
  it.each([1, 2, 3])("over a random linear history (seed %i), for the work tree, a commit and a bare mirror", async (seed) => {
    const dir = initRepo();
    cleanup.push(dir);
    const next = random(seed);
    const files: Record<string, string[]> = { "a.js": ["// TODO: a-start"], "b.js": ["// TODO: b-start", "}"], "c.js": [] };
    for (let commit = 0; commit < 25; commit++) {
      const changed: Record<string, string> = {};
      for (const [name, lines] of Object.entries(files)) {
        if (next() < 0.5 && commit > 0) continue;
        files[name] = edit(lines, next, `${name}-${commit}`);
        changed[name] = `${files[name]?.join("\n")}\n`;
      }
      commitFiles(dir, changed, AUTHORS[commit % AUTHORS.length], `commit ${commit}`);
    }
    const bare = cloneBare(dir);
    cleanup.push(bare);
    expect(await expectSameAsGitBlame(dir, dir, undefined)).toBeGreaterThan(20);
    await expectSameAsGitBlame(dir, dir, "HEAD~5");
    await expectSameAsGitBlame(dir, bare, "main");
  });

  it("for more files than one git log handles at once", async () => {
    const dir = initRepo();
    cleanup.push(dir);
    const next = random(7);
    let files: Record<string, string[]> = {};
    for (let i = 0; i < 60; i++) files[`src/f${i}.ts`] = [`// TODO: f${i}`, "}"];
    for (let commit = 0; commit < 4; commit++) {
      files = Object.fromEntries(
        Object.entries(files).map(([name, lines]) => [name, commit && next() < 0.5 ? lines : edit(lines, next, `${name}-${commit}`)]),
      );
      commitFiles(
        dir,
        Object.fromEntries(Object.entries(files).map(([name, lines]) => [name, `${lines.join("\n")}\n`])),
        AUTHORS[commit % 3],
      );
    }
    expect(await expectSameAsGitBlame(dir, dir, "main")).toBeGreaterThan(120);
  });

  it("across a merge that changed a file on both sides, and a file copied under a new name", async () => {
    const dir = initRepo();
    cleanup.push(dir);
    const [ada, bob, cy] = AUTHORS as [CommitAuthor, CommitAuthor, CommitAuthor];
    commitFiles(dir, { "m.py": "# TODO: one\n# TODO: two\n# TODO: three\n" }, ada);
    git(dir, ["checkout", "-q", "-b", "side"]);
    commitFiles(dir, { "m.py": "# TODO: one\n# TODO: two\n# TODO: three\n# TODO: side\n" }, bob);
    git(dir, ["checkout", "-q", "main"]);
    commitFiles(dir, { "m.py": "# TODO: main\n# TODO: one\n# TODO: two\n# TODO: three\n" }, cy);
    git(dir, ["merge", "-q", "--no-edit", "side"], cy);
    writeFiles(dir, { "copy.py": "# TODO: one\n# TODO: two\n# TODO: three\n# TODO: copied\n" });
    git(dir, ["rm", "-q", "m.py"], bob);
    commitFiles(dir, {}, bob, "rename with an edit");
    expect(await expectSameAsGitBlame(dir, dir, undefined)).toBe(4);
    expect(await expectSameAsGitBlame(dir, dir, "HEAD~1")).toBe(5);
  });
});

describe("logPathspecs", () => {
  it("names few paths one by one, and many by directories as deep as keeps them at most 32", () => {
    expect(logPathspecs(["a.c", "src/b.c"])).toEqual([":(literal)a.c", ":(literal)src/b.c"]);
    // 60 files in 40 directories under lib/x/: two levels deep is one directory per module, three would be 40.
    const many = Array.from({ length: 60 }, (_, i) => `lib/m${i % 4}/d${i % 40}/f${i}.ts`);
    expect(logPathspecs([...many, "README.md"]).sort()).toEqual(
      [":(literal)README.md", ":(literal)lib/m0/", ":(literal)lib/m1/", ":(literal)lib/m2/", ":(literal)lib/m3/"].sort(),
    );
    // Many files at the top level stay files: no directory covers them.
    const top = Array.from({ length: 60 }, (_, i) => `f${i}.c`);
    expect(logPathspecs(top)).toEqual(top.map((p) => `:(literal)${p}`));
  });
});
