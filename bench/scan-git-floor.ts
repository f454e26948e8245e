/**
 * A floor for the cold TODO scan (issue 14; docs/benchmarks.md, "What bounds a cold scan"): git's
 * own work alone. It records the git commands one cold `scanTodos` runs on a repository (through a
 * hook on `child_process.spawn`), then replays them from bash with none of Node's work: git grep
 * (its default threads) beside the horizon's `rev-list`, then the boundary diff, then the blames
 * two at a time (2 cores). A schedule that overlapped the blames with the diff could save at most
 * the shorter of the two, which the output also gives. Timed in interleaved rounds against
 * `git grep -n -I -E` from bash.
 *
 *   npx tsx bench/scan-git-floor.ts <work tree> <now ISO>    (BENCH_ROUNDS=n, default 9)
 *
 * For redis as bench/scan-history.ts scans it: `npx tsx bench/scan-git-floor.ts
 * $TMPDIR/backlog-bot-bench-real-redis-redis 2024-10-18T12:00:00Z` (the clone that bench makes).
 */
import cp, { execFileSync } from "node:child_process";
import { syncBuiltinESMExports } from "node:module";
import { median } from "./fixture-repo.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const [cwd, now] = process.argv.slice(2);
if (!cwd || !now) throw new Error("usage: scan-git-floor.ts <work tree> <now ISO>");

const recorded: string[][] = [];
const spawn = cp.spawn;
(cp as { spawn: typeof cp.spawn }).spawn = ((command: string, args: readonly string[], options: cp.SpawnOptions) => {
  recorded.push([command, ...args]);
  return spawn(command, args, options);
}) as typeof cp.spawn;
syncBuiltinESMExports();
const { scanTodos } = await import("../src/scanners/todo.js");
await scanTodos({ cwd, now: new Date(now) }); // no store: every call is cold
recorded.length = 0;
const found = await scanTodos({ cwd, now: new Date(now) });

const quote = (arg: string): string => `'${arg.replaceAll("'", `'\\''`)}'`;
const line = (args: string[]): string => `${args.map(quote).join(" ")} > /dev/null`;
const named = (word: string): string[][] => recorded.filter((args) => args.includes(word));
const grep = named("grep")[0]?.filter(
  (arg, i, all) => !(arg === "-c" && all[i + 1]?.startsWith("grep.threads")) && !arg.startsWith("grep.threads"),
);
const revList = named("rev-list")[0];
const diff = named("diff")[0];
const blames = named("blame");
if (!grep || !revList || !diff) throw new Error(`the scan ran no grep, rev-list or diff: ${recorded.map((a) => a[1]).join(", ")}`);
const pairs: string[] = [];
for (let i = 0; i < blames.length; i += 2)
  pairs.push(
    `${blames
      .slice(i, i + 2)
      .map((b) => `( ${line(b)} ) &`)
      .join(" ")} wait`,
  );
const phases = {
  "grep + rev-list": `( ${line(grep)} ) & ( ${line(revList)} ) & wait`,
  "boundary diff": line(diff),
  [`${blames.length} blames, 2 at a time`]: pairs.join("\n") || "true",
};
const time = (script: string): number => {
  const started = performance.now();
  execFileSync("bash", ["-e", "-c", script], { cwd, stdio: "ignore" });
  return performance.now() - started;
};
const all = Object.values(phases).join("\n");
const baseline = line(["git", "grep", "-n", "-I", "-E", "TODO|FIXME|HACK|XXX|BUG"]);
const runs: Record<string, number[]> = { floor: [], "git grep -n": [], ...Object.fromEntries(Object.keys(phases).map((k) => [k, []])) };
time(baseline); // the page cache
for (let r = 0; r < ROUNDS; r++) {
  runs.floor?.push(time(all));
  runs["git grep -n"]?.push(time(baseline));
  for (const [name, script] of Object.entries(phases)) runs[name]?.push(time(script));
}
console.log(
  `${cwd}: ${found.findings.length} findings, ${recorded.length} git processes in the scan; medians of ${ROUNDS} rounds, each from bash`,
);
for (const [name, list] of Object.entries(runs)) console.log(`  ${name.padEnd(28)} ${median(list).toFixed(1)} ms`);
const grepMs = median(runs["git grep -n"] ?? []);
console.log(`  floor / git grep: ${(median(runs.floor ?? []) / grepMs).toFixed(2)}x; 3x would be ${(3 * grepMs).toFixed(0)} ms`);
