/**
 * Sandbox start overhead per run: the same command run bare (`runCommand`: own process group,
 * env allowlist) and inside the sandbox (`runSandboxed`: runner process, proxy, bubblewrap), in one
 * process, alternating so both see the same machine load.
 *
 *   npm run build && npx tsx bench/sandbox.ts [runs]     (default 20 runs of `true`, 10 of `npm test`)
 *
 * It loads the compiled modules from dist/, as `npm start` runs them: from src/ the sandbox runner
 * would start through the tsx loader, which is not what a server pays.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type * as Run from "../src/sandbox/run.js";
import type * as Status from "../src/sandbox/status.js";
import type * as Exec from "../src/util/exec.js";

const dist = new URL("../dist/", import.meta.url);
const { runSandboxed } = (await import(new URL("sandbox/run.js", dist).href)) as typeof Run;
const { configureSandbox } = (await import(new URL("sandbox/status.js", dist).href)) as typeof Status;
const { baseEnv, runCommand } = (await import(new URL("util/exec.js", dist).href)) as typeof Exec;

const runs = Number(process.argv[2]) || 20;
const root = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-bench-sandbox-"));
const worktree = path.join(root, "repo");
const home = path.join(root, "home");
mkdirSync(worktree);
mkdirSync(home);
// A small repository with a real test suite: node's own test runner, three tests.
writeFileSync(
  path.join(worktree, "package.json"),
  JSON.stringify({ name: "small", version: "1.0.0", type: "module", scripts: { test: "node --test" } }),
);
writeFileSync(path.join(worktree, "sum.js"), "export const sum = (a, b) => a + b;\n");
writeFileSync(
  path.join(worktree, "sum.test.js"),
  `import test from "node:test";\nimport assert from "node:assert";\nimport { sum } from "./sum.js";\n${[1, 2, 3].map((n) => `test("sum ${n}", () => assert.equal(sum(${n}, ${n}), ${2 * n}));`).join("\n")}\n`,
);
const env = { ...baseEnv(), HOME: home, npm_config_update_notifier: "false" };
configureSandbox({ mode: "on", hidden: [] });

async function time(fn: () => Promise<{ exitCode: number | null }>): Promise<number> {
  const started = performance.now();
  const result = await fn();
  if (result.exitCode !== 0) throw new Error(`a bench run failed with exit ${result.exitCode}`);
  return performance.now() - started;
}

function summary(samples: number[]): { median: number; p90: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { median: at(0.5), p90: at(0.9), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
}

async function compare(label: string, file: string, args: string[], n: number): Promise<void> {
  const bare: number[] = [];
  const boxed: number[] = [];
  // One warm-up of each (first sandbox run also pays the once-per-process probe).
  await runCommand(file, args, { cwd: worktree, env });
  await runSandboxed(file, args, { worktree, home, allowedHosts: [], env });
  for (let i = 0; i < n; i++) {
    bare.push(await time(() => runCommand(file, args, { cwd: worktree, env })));
    boxed.push(await time(() => runSandboxed(file, args, { worktree, home, allowedHosts: [], env })));
  }
  const b = summary(bare);
  const s = summary(boxed);
  const f = (x: number) => x.toFixed(0).padStart(6);
  console.log(`${label} (${n} runs each, ms)      median    p90   mean`);
  console.log(`  bare                          ${f(b.median)} ${f(b.p90)} ${f(b.mean)}`);
  console.log(`  sandboxed                     ${f(s.median)} ${f(s.p90)} ${f(s.mean)}`);
  console.log(`  overhead (sandboxed - bare)   ${f(s.median - b.median)} ${f(s.p90 - b.p90)} ${f(s.mean - b.mean)}`);
}

try {
  console.log(`node ${process.version}, ${os.cpus().length} cpus, ${os.platform()} ${os.release()}`);
  await compare("`true`", "true", [], runs);
  await compare("`npm test` (3 tests, node --test)", "npm", ["test", "--silent"], Math.max(5, Math.round(runs / 2)));
} finally {
  rmSync(root, { recursive: true, force: true });
}
