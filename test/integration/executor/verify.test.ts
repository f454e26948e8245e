import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type VerifyRequest, verifyChange } from "../../../src/executor/verify.js";
import { runUnsandboxed, type VerifyRunner } from "../../../src/executor/verify-suite.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { edit, type FixtureRepo, nodeRepo, status, worktreeOf } from "./verify-fixtures.js";

let db: Db;
let dataDir: string;
let repositoryId: number;

beforeAll(async () => {
  dataDir = makeTempDir();
  db = await openDb(dataDir);
  repositoryId = (await upsertRepository(db, { fullName: "octo/calc" })).id;
});
afterAll(async () => {
  await db.destroy();
  removeDir(dataDir);
});

/** Every command verify ran, with the directory it ran in. */
function recordingRunner(): { runner: VerifyRunner; calls: { cwd: string; argv: string[] }[] } {
  const calls: { cwd: string; argv: string[] }[] = [];
  return {
    calls,
    runner: (command, args, options) => {
      calls.push({ cwd: options.worktree, argv: [command, ...args] });
      return runUnsandboxed(command, args, options);
    },
  };
}

function request(repo: FixtureRepo, worktree: string, config: Partial<VerifyRequest["config"]> = {}, id = repositoryId): VerifyRequest {
  return {
    repositoryId: id,
    worktree,
    baseSha: repo.baseSha,
    config: { timeoutS: 120, ...config },
    scratchDir: path.join(dataDir, "scratch"),
  };
}

const FIXED_SUB = "exports.add = (a, b) => a + b;\nexports.sub = (a, b) => a - b;\n";

describe("verifyChange on a Node repository (npm test, node:test)", () => {
  it("verifies a fix: the suite passes after, the base failure is reported fixed, nothing new", async () => {
    const repo = nodeRepo();
    const worktree = worktreeOf(repo);
    edit(worktree, { "src/calc.js": FIXED_SUB });
    const before = status(worktree);
    const v = await verifyChange({ db }, request(repo, worktree));
    expect(v.source).toBe("detected");
    expect(v.command).toBe("npm test");
    expect(v.status).toBe("passed");
    expect(v.verified).toBe(true);
    expect(v.head?.report?.format).toBe("junit");
    expect(v.head?.report).toMatchObject({ passed: 2, failed: 0 });
    expect(v.base?.report).toMatchObject({ passed: 1, failed: 1 });
    expect(v.attributed).toBe(true);
    expect(v.fixedFailures).toEqual([expect.stringContaining("sub")]);
    expect(v.newFailures).toEqual([]);
    expect(v.masking).toEqual([]);
    expect(status(worktree)).toBe(before); // no report, cache or log file left in the change
  });

  it("attributes a new failure to the change and does not blame it for the failure the base already had", async () => {
    const repo = nodeRepo();
    const worktree = worktreeOf(repo);
    edit(worktree, { "src/calc.js": "exports.add = (a, b) => a * b;\nexports.sub = (a, b) => a + b;\n" });
    const v = await verifyChange({ db }, request(repo, worktree));
    expect(v.status).toBe("failed");
    expect(v.verified).toBe(false);
    expect(v.newFailures).toEqual([expect.stringContaining("add")]);
    expect(v.preExistingFailures).toEqual([expect.stringContaining("sub")]);
    expect(v.fixedFailures).toEqual([]);
    expect(v.reason).toBe("1 new failure");
  });

  it("says 'no new failures' when the change leaves only the base commit's failure", async () => {
    const repo = nodeRepo();
    const worktree = worktreeOf(repo);
    edit(worktree, { "README.md": "# calc\n" });
    const v = await verifyChange({ db }, request(repo, worktree));
    expect(v.status).toBe("no_new_failures");
    expect(v.verified).toBe(false);
    expect(v.newFailures).toEqual([]);
    expect(v.preExistingFailures).toEqual([expect.stringContaining("sub")]);
  });

  it("flags a change that skips the failing test instead of fixing it, and does not call it verified", async () => {
    const repo = nodeRepo();
    const worktree = worktreeOf(repo);
    const original = readFileSync(path.join(worktree, "test/calc.test.js"), "utf8");
    edit(worktree, { "test/calc.test.js": original.replace('test("sub"', 'test.skip("sub"') });
    const v = await verifyChange({ db }, request(repo, worktree));
    expect(v.head?.failedStep).toBeNull(); // the suite itself passes: the failing test no longer runs
    expect(v.status).toBe("flagged");
    expect(v.verified).toBe(false);
    expect(v.masking).toEqual([expect.objectContaining({ kind: "skip-marker", path: "test/calc.test.js", line: 7 })]);
  });

  it("runs the base commit once per base SHA and command: the second verification reads the cache", async () => {
    // Fixture commits have fixed dates, so every nodeRepo() has the same base SHA: use a repository of its own.
    const id = (await upsertRepository(db, { fullName: "octo/cache-test" })).id;
    const repo = nodeRepo();
    const first = recordingRunner();
    const a = worktreeOf(repo);
    edit(a, { "src/calc.js": FIXED_SUB });
    const stale = { repository_id: id, base_sha: "stale", command_key: "k", result: "{}", created_at: "2020-01-01T00:00:00.000Z" };
    await db.insertInto("verify_cache").values(stale).execute();
    const v1 = await verifyChange({ db, runner: first.runner }, request(repo, a, {}, id));
    expect(v1.baseCached).toBe(false);
    expect(first.calls.filter((c) => c.cwd !== a)).toHaveLength(1);
    // Storing a new base pruned the entry older than the cache's 14 days.
    expect(await db.selectFrom("verify_cache").select("base_sha").where("base_sha", "=", "stale").execute()).toEqual([]);

    const second = recordingRunner();
    const b = worktreeOf(repo);
    edit(b, { "src/calc.js": "exports.add = (a, b) => a + b;\nexports.sub = (a, b) => -(b - a);\n" });
    const v2 = await verifyChange({ db, runner: second.runner }, request(repo, b, {}, id));
    expect(v2.baseCached).toBe(true);
    expect(second.calls.map((c) => c.cwd)).toEqual([b]); // only the change ran
    expect(v2.base).toEqual(v1.base);
    expect(v2.status).toBe("passed");

    // A different command is a different key: the base runs again.
    const third = recordingRunner();
    const v3 = await verifyChange({ db, runner: third.runner }, request(repo, b, { command: "node --test" }, id));
    expect(v3.baseCached).toBe(false);
    expect(third.calls.filter((c) => c.cwd !== b)).toHaveLength(1);
  });

  it("claims 'fails before, passes after' for an added test that fails on the base commit", async () => {
    const repo = nodeRepo();
    const worktree = worktreeOf(repo);
    edit(worktree, {
      "src/calc.js": FIXED_SUB,
      "test/sub-negative.test.js": [
        'const test = require("node:test");',
        'const assert = require("node:assert");',
        'const { sub } = require("../src/calc.js");',
        'test("sub goes below zero", () => assert.strictEqual(sub(1, 4), -3));',
        "",
      ].join("\n"),
    });
    const v = await verifyChange({ db }, request(repo, worktree));
    expect(v.status).toBe("passed");
    expect(v.proof).toMatchObject({ claimed: true, tests: [expect.stringContaining("sub goes below zero")] });
  });

  it("does not claim proof for an added test that already passes on the base commit", async () => {
    const repo = nodeRepo();
    const worktree = worktreeOf(repo);
    edit(worktree, {
      "src/calc.js": FIXED_SUB,
      "test/add-more.test.js": [
        'const test = require("node:test");',
        'const assert = require("node:assert");',
        'const { add } = require("../src/calc.js");',
        'test("add zero", () => assert.strictEqual(add(7, 0), 7));',
        "",
      ].join("\n"),
    });
    const v = await verifyChange({ db }, request(repo, worktree));
    expect(v.status).toBe("passed");
    expect(v.proof?.claimed).toBe(false);
    expect(v.proof?.reason).toMatch(/already pass on the base commit/);
  });

  it("says plainly that nothing was verified when no command is configured or detected", async () => {
    const repo = nodeRepo({
      "package.json": '{ "name": "calc", "scripts": { "test": "echo \\"Error: no test specified\\" && exit 1" } }\n',
    });
    const worktree = worktreeOf(repo);
    edit(worktree, { "src/calc.js": FIXED_SUB });
    const recorder = recordingRunner();
    const v = await verifyChange({ db, runner: recorder.runner }, request(repo, worktree));
    expect(v).toMatchObject({ status: "none", verified: false, source: "none", command: "none", head: null, base: null });
    expect(recorder.calls).toEqual([]);
  });

  it("runs commands with an environment allowlist and a private HOME that is removed afterwards", async () => {
    const repo = nodeRepo();
    const worktree = worktreeOf(repo);
    process.env.BACKLOG_BOT_TEST_SECRET = "s3cret";
    try {
      const probe = [
        "const fs = require('fs'), os = require('os');",
        "if (process.env.BACKLOG_BOT_TEST_SECRET) { console.log('secret visible'); process.exit(3); }",
        "if (process.env.HOME === os.userInfo().homedir || !process.env.HOME) { console.log('shared HOME'); process.exit(4); }",
        "if (process.env.CI !== 'true') process.exit(5);",
        "fs.writeFileSync(process.env.HOME + '/written', 'x');",
        "console.log('HOME=' + process.env.HOME);",
      ].join(" ");
      const v = await verifyChange({ db }, request(repo, worktree, { command: `node -e "${probe}"` }));
      expect(v.head?.tail).toMatch(/^HOME=/);
      expect(v.head?.exitCode).toBe(0);
      const home = v.head?.tail.replace(/^HOME=/, "").trim() ?? "";
      expect(home.startsWith(path.join(dataDir, "scratch"))).toBe(true);
      expect(existsSync(home)).toBe(false);
    } finally {
      delete process.env.BACKLOG_BOT_TEST_SECRET;
    }
  });

  it("keeps only the capped tail of a flood of output", async () => {
    const repo = nodeRepo();
    const worktree = worktreeOf(repo);
    const flood = `node -e "for (let i = 0; i < 20000; i++) console.log('line ' + i); process.exitCode = 1"`;
    const v = await verifyChange({ db }, { ...request(repo, worktree, { command: flood }), maxOutputBytes: 4096 });
    expect(v.head?.exitCode).toBe(1);
    expect(v.head?.tail.split("\n").at(-1)).toBe("line 19999");
    expect(v.head?.tail).not.toContain("line 19000\n");
  });

  it("kills a hanging suite's process group at the timeout and reports it, uncached", async () => {
    const repo = nodeRepo();
    const worktree = worktreeOf(repo);
    const config = {
      command: `node -e "require('child_process').spawn('sleep',['600'],{stdio:'inherit'});setInterval(()=>{},1000)"`,
      timeoutS: 1,
    };
    const v = await verifyChange({ db }, request(repo, worktree, config));
    expect(v.head?.timedOut).toBe(true);
    expect(v.status).toBe("failed");
    expect(v.reason).toBe("the tests timed out");
    expect(v.base?.timedOut).toBe(true);
    const again = await verifyChange({ db }, request(repo, worktree, config));
    expect(again.baseCached).toBe(false); // a timed-out base run is never reused
  });
});
