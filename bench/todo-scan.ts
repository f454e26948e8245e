/**
 * Full TODO scan versus plain `git grep` over the same >= 20,000-file checkout.
 * Target: scanTodos takes at most 2x the time of git grep (median against median).
 *
 * Then the whole process, as a user runs it: `backlog-bot scan <repo>` cold (fresh data dir) and
 * warm (a rescan with the store of the cold one) against a spawned `git grep -n -I -E`, with the
 * peak memory of each process tree (bench/scan-memory.ts).
 *
 *   npx tsx bench/todo-scan.ts            (BENCH_ROUNDS=9 to change the number of rounds)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os, { cpus } from "node:os";
import path from "node:path";
import { scanTodos } from "../src/scanners/todo.js";
import { compileCli } from "./cli-build.js";
import { collectGarbage, ensureBenchRepo, gitEnv, median } from "./fixture-repo.js";
import { measureTree } from "./scan-memory.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const MAX_RATIO = 2;
const GREP_ARGS = ["grep", "-n", "-I", "-E", "TODO|FIXME|HACK|XXX|BUG"];

/** Runs the baseline and reads all of its output, as a caller of git grep must; returns ms and lines. */
function timeGitGrep(cwd: string): Promise<{ ms: number; lines: number }> {
  collectGarbage();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("git", GREP_ARGS, { cwd, env: gitEnv(), stdio: ["ignore", "pipe", "inherit"] });
    let lines = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 || code === 1 ? resolve({ ms: performance.now() - started, lines }) : reject(new Error(`git grep exited ${code}`)),
    );
  });
}

async function timeScan(cwd: string): Promise<{ ms: number; findings: number }> {
  collectGarbage();
  const started = performance.now();
  const { findings } = await scanTodos({ cwd });
  return { ms: performance.now() - started, findings: findings.length };
}

function row(name: string, values: number[]): string {
  const fmt = (n: number): string => n.toFixed(0).padStart(7);
  return `| ${name.padEnd(34)} | ${fmt(median(values))} | ${fmt(Math.min(...values))} | ${fmt(Math.max(...values))} | ${String(values.length).padStart(4)} |`;
}

const repo = ensureBenchRepo();
console.log(`repository: ${repo.dir} (${repo.files} tracked files, one commit), ${cpus().length} CPUs, node ${process.version}`);
await timeGitGrep(repo.dir); // fills the page cache for both contenders
const cold = await timeScan(repo.dir); // first call in this process: modules and JIT cold
const grepMs: number[] = [];
const scanMs: number[] = [];
let grepLines = 0;
let findings = cold.findings;
// Interleaved, so background load on a shared machine hits both contenders alike.
for (let round = 0; round < ROUNDS; round++) {
  const grep = await timeGitGrep(repo.dir);
  grepMs.push(grep.ms);
  grepLines = grep.lines;
  const scan = await timeScan(repo.dir);
  scanMs.push(scan.ms);
  findings = scan.findings;
}
const ratio = median(scanMs) / median(grepMs);
console.log("");
console.log(`| ${"command".padEnd(34)} | median ms | min ms | max ms | runs |`);
console.log(`| ${"-".repeat(34)} | ------: | ------: | ------: | ---: |`);
console.log(row(`git ${GREP_ARGS.slice(0, 4).join(" ")} '...'`, grepMs));
console.log(row("scanTodos (cold: first in process)", [cold.ms]));
console.log(row("scanTodos (warm)", scanMs));
console.log("");
console.log(`git grep lines: ${grepLines}; scanTodos findings: ${findings}`);
console.log(
  `ratio scanTodos/git grep (medians): ${ratio.toFixed(2)} (cold: ${(cold.ms / median(grepMs)).toFixed(2)}); target <= ${MAX_RATIO}`,
);
if (ratio > MAX_RATIO) {
  console.error(`FAIL: scanTodos took ${ratio.toFixed(2)}x git grep`);
  process.exitCode = 1;
}

// Whole process: the CLI as built by tsc, against git grep as a process of its own.
const cli = compileCli(true);
const whole: Record<"grep" | "cold" | "warm", { ms: number; peak: number }[]> = { grep: [], cold: [], warm: [] };
for (let round = 0; round < Math.min(ROUNDS, 5) + 1; round++) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-bench-store-"));
  const env = { PATH: process.env.PATH, HOME: os.tmpdir(), BACKLOG_BOT_DATA_DIR: dataDir };
  try {
    // Timed runs without /proc polling; the last round polls for peak memory instead, untimed.
    const memory = round === Math.min(ROUNDS, 5);
    const grep = await measureTree("git", GREP_ARGS, { cwd: repo.dir, env: gitEnv(), discardStdout: true, memory });
    whole.grep.push({ ms: memory ? Number.NaN : grep.ms, peak: grep.peakBytes });
    for (const kind of ["cold", "warm"] as const) {
      const run = await measureTree(process.execPath, [cli, "scan", repo.dir], { env, discardStdout: true, memory });
      if (run.code !== 0) throw new Error(`backlog-bot scan exited ${run.code}: ${run.stderr}`);
      whole[kind].push({ ms: memory ? Number.NaN : run.ms, peak: run.peakBytes });
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
const wm = (k: keyof typeof whole): number => median(whole[k].map((r) => r.ms).filter((ms) => !Number.isNaN(ms)));
const peak = (k: keyof typeof whole): string => (Math.max(...whole[k].map((r) => r.peak)) / 2 ** 20).toFixed(0);
console.log("\nwhole process (node start-up included), median ms and peak MB of the process tree:");
console.log(`  git grep -n -I -E: ${wm("grep").toFixed(0)} ms, ${peak("grep")} MB`);
console.log(
  `  backlog-bot scan, cold (new data dir): ${wm("cold").toFixed(0)} ms, ${peak("cold")} MB; ratio ${(wm("cold") / wm("grep")).toFixed(2)}`,
);
console.log(
  `  backlog-bot scan, warm (rescan): ${wm("warm").toFixed(0)} ms, ${peak("warm")} MB; ratio ${(wm("warm") / wm("grep")).toFixed(2)}`,
);
