import { execFileSync } from "node:child_process";
import { chmodSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { LineAuthor } from "../../../src/scanners/blame-history.js";
import { scanTodos, type TodoSignals } from "../../../src/scanners/todo.js";
import { loadTodoFindings, storedTodoFindings, type TodoHit, todoFindings } from "../../../src/scanners/todo-extract.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { listOpenFindings, syncFindings } from "../../../src/store/findings.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { BacklogBotError } from "../../../src/util/errors.js";
import {
  type CommitAuthor,
  cloneBare,
  commitAll,
  commitFiles,
  DEFAULT_AUTHOR,
  deleteFiles,
  git,
  initRepo,
  makeTempDir,
  removeDir,
  writeFiles,
} from "../../fixtures/git-repo.js";

/** The fixtures' commits are from 2024: scanning "then" keeps their lines inside the history horizon, so authors are exact. */
const NOW = new Date("2024-06-01T00:00:00Z");

const BOB: CommitAuthor = { name: "Bob Builder", email: "bob@example.com", date: "2024-05-05T08:30:00Z" };

const cleanup: string[] = [];
const databases: Db[] = [];
afterEach(async () => {
  for (const db of databases.splice(0)) await db.destroy();
  for (const dir of cleanup.splice(0)) removeDir(dir);
});

function repo(): string {
  const dir = initRepo();
  cleanup.push(dir);
  return dir;
}

async function database(): Promise<{ db: Db; repositoryId: number }> {
  const dataDir = makeTempDir();
  cleanup.push(dataDir);
  const db = await openDb(dataDir);
  databases.push(db);
  const { id } = await upsertRepository(db, { fullName: "octo/widgets" });
  return { db, repositoryId: id };
}

function titles(findings: { title: string }[]): string[] {
  return findings.map((f) => f.title).sort();
}

describe("scanTodos", () => {
  it("reports path, line, marker, title, body and scope", async () => {
    const dir = repo();
    commitFiles(dir, {
      "src/a.ts": ["const x = 1;", "// TODO: tidy this up", "// because it is messy", "// and slow", "", "/* FIXME */ const y = 2;"].join(
        "\n",
      ),
    });
    const result = await scanTodos({ now: NOW, cwd: dir, blame: false });
    expect(result.scope).toEqual({ kinds: ["todo"], paths: undefined });
    expect(result.findings).toEqual([
      expect.objectContaining({
        path: "src/a.ts",
        line: 2,
        title: "tidy this up",
        body: "because it is messy\nand slow",
        signals: { marker: "TODO" },
      }),
      expect.objectContaining({ path: "src/a.ts", line: 6, title: "FIXME", signals: { marker: "FIXME" } }),
    ]);
  });

  it("titles a bare heading marker by its first worded line, skipping an underline", async () => {
    const dir = repo();
    commitFiles(dir, {
      "a.h": ["/*", " * TODO", " * ----", " * - ebRemove() merge small segments.", " * - ebAdd() fix cascades.", " */"].join("\n"),
    });
    const { findings } = await scanTodos({ now: NOW, cwd: dir, blame: false });
    expect(findings.map((f) => [f.line, f.title, f.body])).toEqual([[2, "ebRemove() merge small segments.", "- ebAdd() fix cascades."]]);
  });

  it("decodes UTF-8 text around markers", async () => {
    const dir = repo();
    commitFiles(dir, { "a.py": "x = 'é' # TODO(zoë): café ✓ 日本\n# 続き\n" });
    const { findings } = await scanTodos({ now: NOW, cwd: dir });
    expect(findings.map((f) => [f.line, f.title, f.body, (f.signals as TodoSignals).owner])).toEqual([[1, "café ✓ 日本", "続き", "zoë"]]);
    expect((await scanTodos({ now: NOW, cwd: dir, rev: "HEAD" })).findings).toEqual(findings);
  });

  it("finds markers on every line of a multi-line block comment and caps long titles", async () => {
    const dir = repo();
    const long = "x".repeat(300);
    commitFiles(dir, {
      "a.c": ["/*", " * Intro.", " * TODO: first", " *   more about first", " * HACK: second", ` * XXX: ${long}`, " */"].join("\n"),
    });
    const { findings } = await scanTodos({ now: NOW, cwd: dir, blame: false });
    expect(findings.map((f) => [f.line, f.signals.marker, f.title.length > 100 ? f.title.length : f.title])).toEqual([
      [3, "TODO", "first"],
      [5, "HACK", "second"],
      [6, "XXX", 120],
    ]);
    expect(findings[0]?.body).toBe("more about first");
  });

  it("matches whole upper-case words only, and prose mentions only with a colon", async () => {
    const dir = repo();
    commitFiles(dir, {
      "a.js": [
        "// todo: lower case",
        "// TODOS: plural",
        "// DEBUG: not BUG",
        "// works around a BUG in node",
        "// see BUG: 42",
        "// the `TODO(owner)` and 'FIXME: x' forms",
      ].join("\n"),
    });
    const { findings } = await scanTodos({ now: NOW, cwd: dir, blame: false });
    expect(findings.map((f) => [f.line, f.title])).toEqual([[5, "42"]]);
  });

  it("skips binary, vendored, generated, minified and lock files", async () => {
    const dir = repo();
    commitFiles(dir, {
      "bin.js": Buffer.concat([Buffer.from("// TODO: binary\n"), Buffer.from([0, 1, 2, 0])]),
      "node_modules/dep/index.js": "// TODO: dependency",
      "packages/x/node_modules/dep/index.js": "// TODO: nested dependency",
      "vendor/lib.go": "// TODO: vendored",
      "third_party/lib.c": "// TODO: third party",
      "dist/out.js": "// TODO: built",
      "build/out.js": "// TODO: built too",
      "app.min.js": "// TODO: minified by name",
      "bundle.js": `// TODO: minified by shape\n${"var a=1;".repeat(2000)}\n`,
      "yarn.lock": "# TODO: lock file",
      "src/kept.js": "// TODO: kept",
    });
    expect(titles((await scanTodos({ now: NOW, cwd: dir, blame: false })).findings)).toEqual(["kept"]);
  });

  it("applies custom keywords and exclude globs", async () => {
    const dir = repo();
    commitFiles(dir, {
      "src/a.py": "# NOTE: custom marker\n# TODO: default marker\n",
      "docs/b.py": "# NOTE: excluded\n",
      "gen/c.py": "# NOTE: excluded too\n",
    });
    const { findings } = await scanTodos({ now: NOW, cwd: dir, keywords: ["NOTE"], exclude: ["docs/**", "gen/*.py"], blame: false });
    expect(findings.map((f) => [f.path, f.title, f.signals.marker])).toEqual([["src/a.py", "custom marker", "NOTE"]]);
  });

  it("matches the repository's globs against its paths in linear time: a hostile exclude and include cannot stall the scan", async () => {
    const dir = repo();
    commitFiles(dir, {
      [`${"a".repeat(200)}.c`]: "// TODO: long name\n",
      [`${"a/".repeat(150)}x.c`]: "// TODO: deep\n",
      "src/b.c": "// TODO: kept\n",
      [`${"a".repeat(60)}b.c`]: "// TODO: excluded\n",
    });
    // As picomatch's regular expressions, these took seconds to hours per path: 14 stars in one name, 5 globstars.
    const exclude = [`${"*a".repeat(14)}*b.c`];
    const include = [`${"**/a/".repeat(4)}**/b`];
    const { findings } = await scanTodos({ now: NOW, cwd: dir, blame: false, exclude, include });
    expect(titles(findings)).toEqual(["deep", "kept", "long name"]);
  });

  it("scans an included path inside a default-excluded tree, and nothing else there; exclude still wins", async () => {
    const dir = repo();
    commitFiles(dir, {
      "vendor/ours/a.c": "// TODO: ours\n",
      "vendor/ours/skip.c": "// TODO: skipped\n",
      "vendor/theirs/b.c": "// TODO: theirs\n",
      "src/c.c": "// TODO: first party\n",
    });
    const scan = (include?: string[]) => scanTodos({ now: NOW, cwd: dir, blame: false, include, exclude: ["**/skip.c"] });
    expect(titles((await scan()).findings)).toEqual(["first party"]);
    expect(titles((await scan(["vendor/ours/**"])).findings)).toEqual(["first party", "ours"]);
  });

  it("blames each line: author and date of the commit that last wrote it", async () => {
    const dir = repo();
    commitFiles(dir, { "a.js": "// TODO: old\n", "b.js": "// TODO: untouched\n", "c.js": "// TODO: to rename\n" });
    writeFiles(dir, { "a.js": "// TODO: old\n// FIXME: new\n" });
    renameSync(path.join(dir, "c.js"), path.join(dir, "renamed.js"));
    commitAll(dir, "second", BOB);
    const byTitle = new Map((await scanTodos({ now: NOW, cwd: dir })).findings.map((f) => [f.title, f.signals]));
    const ada = { author: DEFAULT_AUTHOR.name, authoredAt: "2024-03-01T12:00:00.000Z" };
    expect(byTitle.get("old")).toMatchObject(ada);
    expect(byTitle.get("new")).toMatchObject({ author: BOB.name, authoredAt: "2024-05-05T08:30:00.000Z" });
    expect(byTitle.get("untouched")).toMatchObject(ada);
    // Blame follows the rename: the line is still Ada's, not the renaming commit's.
    expect(byTitle.get("to rename")).toMatchObject(ada);
  });

  it("blames a one-commit repository, and leaves uncommitted lines unattributed", async () => {
    const dir = repo();
    commitFiles(dir, { "a.rb": "# TODO: committed\n" });
    expect((await scanTodos({ now: NOW, cwd: dir })).findings[0]?.signals).toEqual({
      marker: "TODO",
      author: DEFAULT_AUTHOR.name,
      authoredAt: "2024-03-01T12:00:00.000Z",
    });
    writeFiles(dir, { "a.rb": "# TODO: committed\n# TODO: not yet\n" });
    const byTitle = new Map((await scanTodos({ now: NOW, cwd: dir })).findings.map((f) => [f.title, f.signals]));
    expect(byTitle.get("committed")?.author).toBe(DEFAULT_AUTHOR.name);
    expect(byTitle.get("not yet")).toEqual({ marker: "TODO" });
  });

  it("scans a bare mirror at a revision, and at HEAD without one", async () => {
    const dir = repo();
    const first = commitFiles(dir, { "a.go": "// TODO: first\n" });
    commitFiles(dir, { "a.go": "// TODO: first\n// TODO: second\n", "b.sh": "# TODO: third\n" }, BOB);
    const bare = cloneBare(dir);
    cleanup.push(path.dirname(bare));
    const atFirst = await scanTodos({ now: NOW, cwd: bare, rev: first });
    expect(atFirst.findings.map((f) => [f.title, f.signals.author])).toEqual([["first", DEFAULT_AUTHOR.name]]);
    const atMain = await scanTodos({ now: NOW, cwd: bare, rev: "main" });
    expect(atMain.findings.map((f) => [f.path, f.line, f.title, f.signals.author])).toEqual([
      ["a.go", 1, "first", DEFAULT_AUTHOR.name],
      ["a.go", 2, "second", BOB.name],
      ["b.sh", 1, "third", BOB.name],
    ]);
    const work = await scanTodos({ now: NOW, cwd: dir });
    expect((await scanTodos({ now: NOW, cwd: bare })).findings).toEqual(atMain.findings);
    expect(work.findings).toEqual(atMain.findings);
  });

  it("scans a commit or a tree given by object id; a tree has no history to blame", async () => {
    const dir = repo();
    const commit = commitFiles(dir, { "a.kt": "// TODO: k\n" });
    const tree = git(dir, ["rev-parse", "HEAD^{tree}"]).trim();
    const byCommit = await scanTodos({ now: NOW, cwd: dir, rev: commit, paths: ["a.kt"] });
    expect(byCommit.findings.map((f) => [f.title, f.signals.author])).toEqual([["k", DEFAULT_AUTHOR.name]]);
    const byTree = await scanTodos({ now: NOW, cwd: dir, rev: tree });
    expect(byTree.findings.map((f) => [f.title, f.signals])).toEqual([["k", { marker: "TODO" }]]);
    await expect(scanTodos({ now: NOW, cwd: dir, rev: "no-such-branch" })).rejects.toMatchObject({ code: "COMMAND_FAILED" });
  });

  it("scans only the given paths, and reports them as the scope", async () => {
    const dir = repo();
    commitFiles(dir, { "a.py": "# TODO: a\n", "b.py": "# TODO: b\n", "c.py": "# TODO: c\n" });
    const result = await scanTodos({ now: NOW, cwd: dir, paths: ["b.py", "gone.py"], blame: false });
    expect(titles(result.findings)).toEqual(["b"]);
    expect(result.scope).toEqual({ kinds: ["todo"], paths: ["b.py", "gone.py"] });
    expect((await scanTodos({ now: NOW, cwd: dir, paths: [] })).findings).toEqual([]);
  });

  it("reads no file through a symbolic link: a file replaced by one, or a committed link, stays unread", async () => {
    const dir = repo();
    const outside = repo();
    writeFileSync(path.join(outside, "secret.c"), "// TODO: outside the repository\n");
    commitFiles(dir, { "a.c": "// TODO: a\n", "b.c": "// TODO: b\n" });
    rmSync(path.join(dir, "a.c"));
    symlinkSync(path.join(outside, "secret.c"), path.join(dir, "a.c"));
    symlinkSync(path.join(outside, "secret.c"), path.join(dir, "link.c"));
    git(dir, ["add", "link.c"]);
    for (const paths of [["a.c", "b.c", "link.c"], undefined]) {
      const result = await scanTodos({ now: NOW, cwd: dir, paths, blame: false });
      expect(titles(result.findings)).toEqual(["b"]);
    }
  });

  it("says how git ended when it crashes (a signal, not an exit code), and the scan fails with that", async () => {
    const dir = repo();
    commitFiles(dir, { "a.js": "// TODO: x\n" });
    const shim = makeTempDir();
    cleanup.push(shim);
    const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    // git 2.39 itself dies this way on a truncated .git/index.
    writeFileSync(path.join(shim, "git"), `#!/bin/sh\ncase " $* " in *" status "*) kill -SEGV $$;; esac\nexec '${real}' "$@"\n`);
    chmodSync(path.join(shim, "git"), 0o755);
    const saved = process.env.PATH;
    process.env.PATH = `${shim}:${saved}`;
    try {
      await expect(scanTodos({ now: NOW, cwd: dir })).rejects.toThrow(/^git status failed \(killed by SIGSEGV\)/);
    } finally {
      process.env.PATH = saved;
    }
  });

  it("throws NOT_A_GIT_REPOSITORY for a plain or missing directory", async () => {
    const plain = makeTempDir();
    cleanup.push(plain);
    for (const [cwd, rev] of [[plain], [path.join(plain, "missing")], [plain, "a".repeat(40)]]) {
      const error = await scanTodos({ now: NOW, cwd: cwd as string, rev, paths: rev ? ["a.js"] : undefined }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BacklogBotError);
      expect(error).toMatchObject({ code: "NOT_A_GIT_REPOSITORY", message: `${cwd} is not a git repository` });
    }
    // A `.git` that is no repository: the scan starts without verifying it, and explains once git fails.
    const broken = makeTempDir();
    cleanup.push(broken);
    writeFileSync(path.join(broken, ".git"), "not a gitdir pointer\n");
    writeFileSync(path.join(broken, "a.js"), "// TODO: x\n");
    const error = await scanTodos({ now: NOW, cwd: broken }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "NOT_A_GIT_REPOSITORY", message: `${broken} is not a git repository` });
    const dir = repo();
    commitFiles(dir, { "sub/a.js": "// TODO: x\n" });
    await expect(scanTodos({ now: NOW, cwd: path.join(dir, "sub") })).rejects.toMatchObject({
      code: "NOT_A_GIT_REPOSITORY",
      message: `${path.join(dir, "sub")} is not a git repository but a directory inside ${dir}: scan ${dir} instead`,
    });
  });

  it("keeps fingerprints when TODOs move, and syncs without duplicates", async () => {
    const dir = repo();
    commitFiles(dir, { "a.ts": ["// TODO: same", "code();", "// TODO: same", "// TODO: unique"].join("\n") });
    const { db, repositoryId } = await database();
    const first = await scanTodos({ now: NOW, cwd: dir });
    expect(new Set(first.findings.map((f) => f.fingerprint)).size).toBe(3);
    expect(await syncFindings(db, repositoryId, first.findings, first.scope)).toEqual({ added: 3, seenAgain: 0, resolved: 0 });

    commitFiles(
      dir,
      { "a.ts": ["import x from 'x';", "", "// TODO: same", "code();", "// TODO: same", "more();", "// TODO: unique"].join("\n") },
      BOB,
    );
    const moved = await scanTodos({ now: NOW, cwd: dir });
    expect(moved.findings.map((f) => f.fingerprint)).toEqual(first.findings.map((f) => f.fingerprint));
    expect(moved.findings.map((f) => f.line)).toEqual([3, 5, 7]);
    expect(await syncFindings(db, repositoryId, moved.findings, moved.scope)).toEqual({ added: 0, seenAgain: 3, resolved: 0 });
    const open = await listOpenFindings(db, repositoryId);
    expect(open.map((r) => r.line).sort()).toEqual([3, 5, 7]);
  });

  it("resolves TODOs that were removed, on full and on incremental scans", async () => {
    const dir = repo();
    commitFiles(dir, { "a.js": "// TODO: a1\n// TODO: a2\n", "b.js": "// TODO: b\n", "c.js": "// TODO: c\n" });
    const { db, repositoryId } = await database();
    const full = await scanTodos({ now: NOW, cwd: dir });
    await syncFindings(db, repositoryId, full.findings, full.scope);

    writeFiles(dir, { "a.js": "// TODO: a1\n" });
    commitAll(dir, "drop a2");
    const again = await scanTodos({ now: NOW, cwd: dir });
    expect(await syncFindings(db, repositoryId, again.findings, again.scope)).toEqual({ added: 0, seenAgain: 3, resolved: 1 });

    deleteFiles(dir, ["b.js"]);
    const head = commitAll(dir, "drop b");
    const push = await scanTodos({ now: NOW, cwd: dir, rev: head, paths: ["b.js"] });
    expect(await syncFindings(db, repositoryId, push.findings, push.scope)).toEqual({ added: 0, seenAgain: 0, resolved: 1 });
    expect(titles(await listOpenFindings(db, repositoryId))).toEqual(["a1", "c"]);
    expect(git(dir, ["status", "--porcelain"])).toBe("");
  });
});

describe("stored TODO findings", () => {
  it("load back exactly as todoFindings built them: owner, body, empty and missing authors, lines older than the horizon", () => {
    const hits: TodoHit[] = [
      { line: 1, marker: "TODO", owner: "alice", text: "first  thing", body: "more\nlines" },
      { line: 4, marker: "FIXME", text: "x".repeat(200) },
      { line: 7, marker: "TODO", text: "first thing" },
      { line: 9, marker: "HACK", text: "" },
      { line: 12, marker: "XXX", text: "unknown author" },
    ];
    const authors = new Map<number, LineAuthor>([
      [1, { commit: "c1", author: "Ada", authoredAt: "2024-01-01T00:00:00.000Z" }],
      [4, { commit: "c2", author: "", authoredAt: "2024-02-01T00:00:00.000Z" }],
      [7, { commit: "", author: "", authoredAt: "2023-10-01T00:00:00.000Z", before: true }],
      [9, { commit: "c3", author: "Bob", authoredAt: "2023-10-01T00:00:00.000Z", before: true }],
    ]);
    const built = todoFindings("src/a.ts", hits, authors);
    const loaded = loadTodoFindings("src/a.ts", storedTodoFindings(built));
    expect(JSON.stringify(loaded)).toBe(JSON.stringify(built)); // same keys in the same order, not only equal values
    expect(loaded.map((f) => f.signals)).toEqual([
      { marker: "TODO", owner: "alice", author: "Ada", authoredAt: "2024-01-01T00:00:00.000Z" },
      { marker: "FIXME", author: "", authoredAt: "2024-02-01T00:00:00.000Z" },
      { marker: "TODO", authoredAt: "2023-10-01T00:00:00.000Z", authoredBefore: true },
      { marker: "HACK", author: "Bob", authoredAt: "2023-10-01T00:00:00.000Z", authoredBefore: true },
      { marker: "XXX" },
    ]);
    expect(loaded[0]).toMatchObject({ body: "more\nlines", title: "first thing" });
    expect(loaded[0]?.fingerprint).not.toBe(loaded[2]?.fingerprint); // same normalised text, second occurrence
    for (const damaged of ["not json", "{}", "[[1, 2]]", '[["f", "t"]]'])
      expect(() => loadTodoFindings("src/a.ts", damaged)).toThrow(SyntaxError);
  });
});
