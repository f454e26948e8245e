/**
 * Verify overhead with the base-commit cache cold and warm, on a repository whose test suite takes
 * about 10 s (`npm test` running node:test: 20 tests of 500 ms each, one file, so the time is the
 * same whatever the machine's load). Each round, in this order:
 *
 * - bare: `npm test` run directly in the agent's worktree (what a run without verify would cost);
 * - cold: `verifyChange` with an empty cache (the change, then the base commit);
 * - warm: `verifyChange` again on a new worktree of the same base (the base run comes from the cache).
 *
 * The change fixes one of the suite's tests, so the comparison and the parsing do real work.
 *
 *   npx tsx bench/verify.ts            (BENCH_ROUNDS=n to change the 3 rounds)
 */
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { verifyChange } from "../src/executor/verify.js";
import { verifyEnv } from "../src/executor/verify-suite.js";
import { openDb } from "../src/store/db.js";
import { upsertRepository } from "../src/store/repositories.js";
import { runCommand } from "../src/util/exec.js";
import { commitFiles, git, initRepo, makeTempDir, removeDir, writeFiles } from "../test/fixtures/git-repo.js";
import { median } from "./fixture-repo.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TESTS = 20;
const TEST_MS = 500;

function suite(): string {
  const lines = [
    'const test = require("node:test");',
    'const assert = require("node:assert");',
    'const { setTimeout: sleep } = require("node:timers/promises");',
  ];
  for (let i = 0; i < TESTS; i++) {
    lines.push(`test("case ${i}", async () => { await sleep(${TEST_MS}); assert.strictEqual(require("../src/id.js").id(${i}), ${i}); });`);
  }
  return `${lines.join("\n")}\n`;
}

const base = initRepo();
const baseSha = commitFiles(base, {
  "package.json": '{ "name": "slow", "private": true, "scripts": { "test": "node --test" } }\n',
  "src/id.js": "exports.id = (x) => (x === 0 ? 1 : x);\n", // the bug: id(0) is 1
  "test/id.test.js": suite(),
});

function worktree(): string {
  const dir = path.join(makeTempDir(), "wt");
  git(path.dirname(dir), ["clone", "-q", base, dir]);
  writeFiles(dir, { "src/id.js": "exports.id = (x) => x;\n" });
  return dir;
}

const dataDir = makeTempDir();
const db = await openDb(dataDir);
const results: Record<"bare" | "cold" | "warm", number[]> = { bare: [], cold: [], warm: [] };
const config = { timeoutS: 120 };
for (let round = 0; round < ROUNDS; round++) {
  const repositoryId = (await upsertRepository(db, { fullName: `bench/verify-${round}` })).id; // a fresh cache each round
  const wt = worktree();
  const home = makeTempDir();
  let started = performance.now();
  const bare = await runCommand("npm", ["test"], { cwd: wt, env: verifyEnv(home) });
  results.bare.push(performance.now() - started);
  if (bare.exitCode !== 0) throw new Error(`bare npm test failed:\n${bare.stdout}`);

  const request = { repositoryId, baseSha, config, scratchDir: path.join(dataDir, "scratch") };
  started = performance.now();
  const cold = await verifyChange({ db }, { ...request, worktree: wt });
  results.cold.push(performance.now() - started);
  const wt2 = worktree();
  started = performance.now();
  const warm = await verifyChange({ db }, { ...request, worktree: wt2 });
  results.warm.push(performance.now() - started);
  if (cold.status !== "passed" || warm.status !== "passed" || cold.baseCached || !warm.baseCached || warm.fixedFailures.length !== 1) {
    throw new Error(`unexpected verification: cold ${cold.status}/${cold.baseCached}, warm ${warm.status}/${warm.baseCached}`);
  }
  for (const dir of [path.dirname(wt), path.dirname(wt2), home]) removeDir(dir);
  console.error(
    `round ${round + 1}: bare ${results.bare.at(-1)?.toFixed(0)} ms, cold ${results.cold.at(-1)?.toFixed(0)} ms, warm ${results.warm.at(-1)?.toFixed(0)} ms`,
  );
}
await db.destroy();
removeDir(dataDir);
removeDir(base);

const fmt = (n: number) => (n / 1000).toFixed(2).padStart(7);
const row = (name: string, values: number[]) =>
  `| ${name.padEnd(44)} | ${fmt(median(values))} | ${fmt(Math.min(...values))} | ${fmt(Math.max(...values))} | ${String(values.length).padStart(4)} |`;
const bareMedian = median(results.bare);
console.log(
  `${cpus().length} CPUs, load average ${loadavg()[0]?.toFixed(1)}, node ${process.version}, ${execFileSync("git", ["--version"]).toString().trim()}`,
);
console.log("| run                                          | median s |  min s |  max s | runs |");
console.log("| -------------------------------------------- | -------: | -----: | -----: | ---: |");
console.log(row("bare `npm test` in the worktree", results.bare));
console.log(row("verify, cache cold (change + base commit)", results.cold));
console.log(row("verify, cache warm (change only)", results.warm));
console.log(
  `\nOverhead over bare npm test (medians): cold +${fmt(median(results.cold) - bareMedian).trim()} s (×${(median(results.cold) / bareMedian).toFixed(2)}), warm +${fmt(median(results.warm) - bareMedian).trim()} s (×${(median(results.warm) / bareMedian).toFixed(2)}).`,
);
