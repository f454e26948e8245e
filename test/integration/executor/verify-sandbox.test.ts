import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyChange } from "../../../src/executor/verify.js";
import { runSandboxed } from "../../../src/sandbox/run.js";
import { configureSandbox } from "../../../src/sandbox/status.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { edit, nodeRepo, worktreeOf } from "./verify-fixtures.js";

/** Verify with the production runner, `runSandboxed`, and the sandbox on (bubblewrap; CI installs it). */
describe("verify in the sandbox", () => {
  let dataDir: string;
  let db: Db;
  let repositoryId: number;
  beforeAll(async () => {
    dataDir = makeTempDir();
    configureSandbox({ mode: "on", hidden: [dataDir] }); // the store, like the server's data dir, is hidden from commands
    db = await openDb(path.join(dataDir, "db"));
    repositoryId = (await upsertRepository(db, { fullName: "octo/calc" })).id;
  });
  afterAll(async () => {
    await db.destroy();
    removeDir(dataDir);
  });

  it("verifies a fix before and after with both runs sandboxed", async () => {
    const repo = nodeRepo();
    const worktree = worktreeOf(repo);
    edit(worktree, { "src/calc.js": "exports.add = (a, b) => a + b;\nexports.sub = (a, b) => a - b;\n" });
    const v = await verifyChange(
      { db, runner: runSandboxed },
      { repositoryId, worktree, baseSha: repo.baseSha, config: { timeoutS: 120 }, scratchDir: path.join(dataDir, "verify") },
    );
    expect(v).toMatchObject({ status: "passed", fixedFailures: ["test > sub"] });
  });

  it("keeps the bot's data directory out of the test command's reach", async () => {
    const secret = path.join(dataDir, "secret.txt");
    writeFileSync(secret, "do not read");
    const repo = nodeRepo();
    const worktree = worktreeOf(repo);
    const command = `node -e "process.stdout.write(require('fs').readFileSync('${secret}', 'utf8'))"`;
    const v = await verifyChange(
      { db, runner: runSandboxed },
      { repositoryId, worktree, baseSha: repo.baseSha, config: { timeoutS: 120, command }, scratchDir: path.join(dataDir, "verify") },
    );
    expect(v.head?.exitCode).not.toBe(0);
    expect(v.head?.tail).not.toContain("do not read");
  });
});
