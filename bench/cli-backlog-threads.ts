/**
 * Prototypes of `backlog-bot backlog --json` on two threads (issue 14), whole process, against
 * `sqlite3 -json` on the same rows and the CLI as it is, in interleaved rounds. Bench only: the
 * prototypes (bench/cli-threads/*.mjs) run on the private build of bench/cli-build.ts.
 *
 * - `one worker`: a worker thread reads, ranks and serialises every row while the main thread
 *   imports and opens the store as `withDb` does; output checked byte for byte against the CLI's.
 * - `split (lower bound)`: the repositories split between a worker and the main thread, each doing
 *   all three for its share, with the two rankings NOT merged (a real split must merge them).
 * - `split, process`: the same lower bound with a child process in place of the worker thread.
 *
 * Between rounds, a gauge of the cores free (a CPU loop timed alone and as two at once): the
 * medians are given over all rounds and over the rounds with both cores free before and after.
 *
 *   npx tsx bench/cli-backlog-threads.ts      (BENCH_ROUNDS=n, default 7; BENCH_FINDINGS=n, default 100,000)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compileCli } from "./cli-build.js";
import { makeStore } from "./cli-store.js";
import { median } from "./fixture-repo.js";
import { measureTree } from "./scan-memory.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
/** Gauge at or above which both cores count as free. */
const FREE = 1.8;
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 100_000);
const here = path.dirname(fileURLToPath(import.meta.url));

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

/** Cores this process can count on now: a loop's time alone against two copies at once (2.0 = both cores free). */
async function coresFree(): Promise<number> {
  const loop = ["-e", "let x = 0; for (let i = 0; i < 2e8; i++) x += i % 7; if (x < 0) console.log(x);"];
  const alone = (await measureTree(process.execPath, loop, { memory: false })).ms;
  const pair = await Promise.all([
    measureTree(process.execPath, loop, { memory: false }),
    measureTree(process.execPath, loop, { memory: false }),
  ]);
  return (2 * alone) / Math.max(...pair.map((r) => r.ms));
}

const cli = compileCli();
const data = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-bench-threads-"));
const env = {
  PATH: process.env.PATH,
  HOME: os.tmpdir(),
  BACKLOG_BOT_DATA_DIR: data,
  BENCH_DIST: path.join(path.dirname(cli), "..", "dist"),
};
try {
  const file = await makeStore(data, FINDINGS);
  const query = "select * from findings where resolved_at is null and dismissed_at is null order by id";
  const commands: Record<string, [string, string[]]> = {
    "sqlite3 -json": ["sqlite3", ["-json", file, query]],
    "backlog --json (today)": [process.execPath, [cli, "backlog", "--json"]],
    "one worker": [process.execPath, [path.join(here, "cli-threads", "one-worker.mjs")]],
    "split (lower bound)": [process.execPath, [path.join(here, "cli-threads", "split.mjs")]],
    "split, process (l. b.)": [process.execPath, [path.join(here, "cli-threads", "split-process.mjs")]],
  };
  // Compared as bytes: measureTree decodes each chunk alone, which can split a "×" differently in two runs.
  const bytes = ([command, args]: [string, string[]]) => execFileSync(command, args, { env, maxBuffer: 2 ** 30 });
  const today = bytes(commands["backlog --json (today)"] as [string, string[]]);
  if (!bytes(commands["one worker"] as [string, string[]]).equals(today)) throw new Error("one worker: output differs from the CLI's");
  console.log(`${os.cpus().length} CPUs, load average ${load()}, node ${process.version}; one worker prints the CLI's bytes`);
  // A round counts as "both cores free" when the gauge before it and the one after it both say so.
  const gauges: number[] = [await coresFree()];
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, [command, args]] of Object.entries(commands)) {
      const run = await measureTree(command, args, { env, discardStdout: true, memory: false });
      if (run.code !== 0) throw new Error(`${name} exited ${run.code}: ${run.stderr}`);
      times[name]?.push(run.ms);
    }
    gauges.push(await coresFree());
  }
  const free = times["sqlite3 -json"]?.map((_, round) => Math.min(gauges[round] ?? 0, gauges[round + 1] ?? 0) >= FREE) ?? [];
  const peaks: Record<string, number> = {};
  for (const [name, [command, args]] of Object.entries(commands))
    peaks[name] = (await measureTree(command, args, { env, discardStdout: true })).peakBytes / 2 ** 20;
  const report = (label: string, pick: (round: number) => boolean) => {
    const rounds = free.map((_, round) => round).filter(pick);
    if (rounds.length === 0) return console.log(`\n${label}: no such round`);
    const of = (name: string) => median(rounds.map((round) => times[name]?.[round] ?? Number.NaN));
    console.log(`\n${label}: ${rounds.length} of ${ROUNDS} rounds`);
    for (const name of Object.keys(commands))
      console.log(
        `${name.padEnd(24)} median ${of(name).toFixed(0).padStart(5)} ms (${(of(name) / of("sqlite3 -json")).toFixed(2)}x)  peak ${peaks[name]?.toFixed(0)} MB`,
      );
  };
  console.log(`\ncores free, gauged between rounds: ${gauges.map((g) => g.toFixed(2)).join(" ")}`);
  report("all rounds", () => true);
  report(`rounds with both cores free (gauge >= ${FREE} before and after)`, (round) => free[round] === true);
  console.log(`load average now ${load()}`);
} finally {
  rmSync(data, { recursive: true, force: true });
}
