import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type VerifyRequest, verifyChange } from "../../../src/executor/verify.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { edit, type FixtureRepo, hasPytest, pythonRepo, status, worktreeOf } from "./verify-fixtures.js";

// pytest where this machine has it (it does on the project's machines); else unittest, which
// verify does not detect, so it is configured as a repository would configure it.
const pytest = hasPytest();
const config: VerifyRequest["config"] = pytest
  ? { timeoutS: 120 }
  : { timeoutS: 120, command: "python3 -m unittest discover -s tests -t ." };

let db: Db;
let dataDir: string;
let repositoryId: number;

beforeAll(async () => {
  dataDir = makeTempDir();
  db = await openDb(dataDir);
  repositoryId = (await upsertRepository(db, { fullName: "octo/pycalc" })).id;
});
afterAll(async () => {
  await db.destroy();
  removeDir(dataDir);
});

function request(repo: FixtureRepo, worktree: string): VerifyRequest {
  return { repositoryId, worktree, baseSha: repo.baseSha, config, scratchDir: path.join(dataDir, "scratch") };
}

const FIXED = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n";

describe(`verifyChange on a Python repository (${pytest ? "pytest, JUnit XML" : "unittest"})`, () => {
  it("verifies a fix with per-test results, and leaves the worktree as it was", async () => {
    const repo = pythonRepo();
    const worktree = worktreeOf(repo);
    edit(worktree, { "calc.py": FIXED });
    const before = status(worktree);
    const v = await verifyChange({ db }, request(repo, worktree));
    expect(v.command).toBe(pytest ? "python3 -m pytest -p no:cacheprovider" : config.command);
    expect(v.status).toBe("passed");
    expect(v.head?.report).toMatchObject({ format: pytest ? "junit" : "unittest", passed: 2, failed: 0 });
    expect(v.fixedFailures).toEqual([expect.stringContaining("test_sub")]);
    expect(status(worktree)).toBe(before);
  });

  it("reports a broken test as new and the base's failing test as pre-existing", async () => {
    const repo = pythonRepo();
    const worktree = worktreeOf(repo);
    edit(worktree, { "calc.py": "def add(a, b):\n    return a * b\n\n\ndef sub(a, b):\n    return a + b\n" });
    const v = await verifyChange({ db }, request(repo, worktree));
    expect(v.status).toBe("failed");
    expect(v.newFailures).toEqual([expect.stringContaining("test_add")]);
    expect(v.preExistingFailures).toEqual([expect.stringContaining("test_sub")]);
  });

  it("flags a skip marker and a loosened assertion", async () => {
    const repo = pythonRepo();
    const worktree = worktreeOf(repo);
    const test = readFileSync(path.join(worktree, "tests/test_calc.py"), "utf8");
    edit(worktree, {
      "tests/test_calc.py": test
        .replace("    def test_sub(self):", "    @unittest.skip('flaky')\n    def test_sub(self):")
        .replace("self.assertEqual(add(2, 3), 5)", "self.assertTrue(add(2, 3))"),
    });
    const v = await verifyChange({ db }, request(repo, worktree));
    expect(v.head?.failedStep).toBeNull();
    expect(v.status).toBe("flagged");
    expect(v.masking.map((f) => f.kind).sort()).toEqual(["loosened-assertion", "skip-marker"]);
  });
});
