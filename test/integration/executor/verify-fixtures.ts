/**
 * Fixture repositories for verify tests: real git repositories with a real test suite and a real
 * bug (`sub` adds instead of subtracting), and clones of them that stand in for an agent's
 * worktree (edited, never committed, as an agent leaves it).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { commitFiles, git, initRepo, makeTempDir, writeFiles } from "../../fixtures/git-repo.js";

/** A repository and the commit to verify against. */
export interface FixtureRepo {
  dir: string;
  baseSha: string;
}

/** node:test suite run by `npm test` (no dependencies, so no install): `add` passes, `sub` fails. */
export function nodeRepo(extra: Record<string, string> = {}): FixtureRepo {
  const dir = initRepo();
  const baseSha = commitFiles(dir, {
    "package.json": `${JSON.stringify({ name: "calc", version: "1.0.0", private: true, scripts: { test: "node --test" } }, null, 2)}\n`,
    ".gitignore": "node_modules/\n",
    "src/calc.js": "exports.add = (a, b) => a + b;\nexports.sub = (a, b) => a + b;\n",
    "test/calc.test.js": [
      'const test = require("node:test");',
      'const assert = require("node:assert");',
      'const { add, sub } = require("../src/calc.js");',
      'test("add", () => {',
      "  assert.strictEqual(add(2, 3), 5);",
      "});",
      'test("sub", () => {',
      "  assert.strictEqual(sub(5, 3), 2);",
      "});",
      "",
    ].join("\n"),
    ...extra,
  });
  return { dir, baseSha };
}

/** A unittest-style suite that pytest runs too (detected through pytest.ini): `test_add` passes, `test_sub` fails. */
export function pythonRepo(): FixtureRepo {
  const dir = initRepo();
  const baseSha = commitFiles(dir, {
    "pytest.ini": "[pytest]\ntestpaths = tests\npythonpath = .\n",
    "calc.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a + b\n",
    "tests/__init__.py": "",
    "tests/test_calc.py": [
      "import unittest",
      "",
      "from calc import add, sub",
      "",
      "",
      "class CalcTest(unittest.TestCase):",
      "    def test_add(self):",
      "        self.assertEqual(add(2, 3), 5)",
      "",
      "    def test_sub(self):",
      "        self.assertEqual(sub(5, 3), 2)",
      "",
    ].join("\n"),
  });
  return { dir, baseSha };
}

/** A fresh clone of `repo` at its base commit, to be edited like an agent's worktree. */
export function worktreeOf(repo: FixtureRepo): string {
  const dir = path.join(makeTempDir(), "worktree");
  git(path.dirname(dir), ["clone", "-q", repo.dir, dir]);
  return dir;
}

/** Edits files in a worktree (no commit). */
export function edit(worktree: string, files: Record<string, string>): void {
  writeFiles(worktree, files);
}

/** `git status --porcelain` of a worktree, to show verify left it as it found it. */
export function status(worktree: string): string {
  return execFileSync("git", ["status", "--porcelain=v1", "--untracked-files=all", "--ignored"], { cwd: worktree, encoding: "utf8" });
}

/** Whether `python3 -m pytest` runs here. */
export function hasPytest(): boolean {
  try {
    execFileSync("python3", ["-m", "pytest", "--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
