/**
 * Incremental push scan versus full scan, on the benchmark repository plus one "push" commit that
 * changes 10 files (adds a TODO to each). Both scan the pushed commit (`rev`), as the push handler
 * does; the incremental one passes the 10 changed paths. Target: incremental < 5% of full.
 *
 *   npx tsx bench/push-scan.ts            (BENCH_ROUNDS=9 to change the number of rounds)
 */
import { cpus } from "node:os";
import path from "node:path";
import { scanTodos } from "../src/scanners/todo.js";
import type { Finding } from "../src/scanners/types.js";
import { collectGarbage, ensureBenchRepo, git, median } from "./fixture-repo.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CHANGED = 10;
const MAX_SHARE = 0.05;
const PUSH_REF = "refs/bench/push";

/**
 * The push commit (reused once made): 10 spread-out .js files, each with a TODO appended, written
 * through a throw-away index so the work tree and HEAD stay as they are.
 */
function ensurePushCommit(dir: string, base: string): { commit: string; paths: string[] } {
  const all = git(dir, ["ls-files", "-z", "--", "*.js"]).split("\0").filter(Boolean);
  const step = Math.floor(all.length / CHANGED);
  const paths = Array.from({ length: CHANGED }, (_, i) => all[i * step] as string);
  const existing = git(dir, ["for-each-ref", "--format=%(objectname)", PUSH_REF]).trim();
  if (existing) return { commit: existing, paths };
  const index = path.join(dir, ".git", "bench-push-index");
  const withIndex = (args: string[], input?: string): string => {
    process.env.GIT_INDEX_FILE = index;
    try {
      return git(dir, args, input);
    } finally {
      delete process.env.GIT_INDEX_FILE;
    }
  };
  withIndex(["read-tree", base]);
  paths.forEach((file, i) => {
    const content = `${git(dir, ["cat-file", "blob", `${base}:${file}`])}\n// TODO: push bench change ${i}\n`;
    const blob = git(dir, ["hash-object", "-w", "--stdin"], content).trim();
    withIndex(["update-index", "--cacheinfo", `100644,${blob},${file}`]);
  });
  const tree = withIndex(["write-tree"]).trim();
  const commit = git(dir, ["commit-tree", tree, "-p", base, "-m", "bench: a push changing 10 files"]).trim();
  git(dir, ["update-ref", PUSH_REF, commit]);
  return { commit, paths };
}

async function timed(run: () => Promise<Finding[]>): Promise<{ ms: number; findings: Finding[] }> {
  collectGarbage();
  const started = performance.now();
  const findings = await run();
  return { ms: performance.now() - started, findings };
}

function row(name: string, values: number[]): string {
  const fmt = (n: number): string => n.toFixed(1).padStart(8);
  return `| ${name.padEnd(48)} | ${fmt(median(values))} | ${fmt(Math.min(...values))} | ${fmt(Math.max(...values))} | ${String(values.length).padStart(4)} |`;
}

const repo = ensureBenchRepo();
const { commit, paths } = ensurePushCommit(repo.dir, repo.head);
console.log(
  `repository: ${repo.dir} (${repo.files} files), push ${commit.slice(0, 12)} changing ${paths.length} files, ${cpus().length} CPUs`,
);
const full = (): Promise<Finding[]> => scanTodos({ cwd: repo.dir, rev: commit }).then((r) => r.findings);
const incremental = (): Promise<Finding[]> => scanTodos({ cwd: repo.dir, rev: commit, paths }).then((r) => r.findings);
await full(); // warm-up: page cache, modules, JIT
await incremental();
const fullMs: number[] = [];
const incMs: number[] = [];
let fullFindings: Finding[] = [];
let incFindings: Finding[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const a = await timed(full);
  fullMs.push(a.ms);
  fullFindings = a.findings;
  const b = await timed(incremental);
  incMs.push(b.ms);
  incFindings = b.findings;
}
// The incremental scan must agree with the full scan on the files it covers.
const changed = new Set(paths);
const expected = JSON.stringify(fullFindings.filter((f) => f.path && changed.has(f.path)));
const agree = JSON.stringify(incFindings) === expected;
const share = median(incMs) / median(fullMs);
console.log("");
console.log(`| ${"scan".padEnd(48)} | median ms | min ms | max ms | runs |`);
console.log(`| ${"-".repeat(48)} | -------: | -------: | -------: | ---: |`);
console.log(row("full: scanTodos({ cwd, rev })", fullMs));
console.log(row(`incremental: scanTodos({ cwd, rev, paths: ${paths.length} })`, incMs));
console.log("");
console.log(`findings: full ${fullFindings.length}, incremental ${incFindings.length} (agrees with full on those paths: ${agree})`);
console.log(`incremental / full (medians): ${(share * 100).toFixed(1)}%; target < ${MAX_SHARE * 100}%`);
if (share >= MAX_SHARE || !agree) {
  console.error(
    agree ? `FAIL: incremental took ${(share * 100).toFixed(1)}% of the full scan` : "FAIL: incremental findings differ from the full scan",
  );
  process.exitCode = 1;
}
