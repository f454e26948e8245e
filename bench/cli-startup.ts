/**
 * The CLI as a user runs it, whole process (issue 14): `backlog-bot --help` (target <= 0.15 s) and
 * `backlog-bot backlog --json` over 100,000 stored findings (target <= 2x `sqlite3 -json` on the
 * same rows, <= 200 MB), from a private build of src/ (tsc into node_modules/.cache, so the
 * shared dist/ is left alone), launched through a copy of bin/backlog-bot.js. Timed runs go through
 * `/usr/bin/time` for each process's CPU time (user + system) beside the wall time: on a shared
 * machine the wall time includes waiting for a core. The load average is printed before and after.
 * In the same rounds it times bench/cli-json-floor.mjs, the least a Node implementation of the
 * command does (none of the product's code), to show how far 2x is from what Node can do at all.
 *
 *   npx tsx bench/cli-startup.ts        (BENCH_ROUNDS=n for the 9 rounds; BENCH_FINDINGS=n for the store size)
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compileCli } from "./cli-build.js";
import { makeStore } from "./cli-store.js";
import { median } from "./fixture-repo.js";
import { measureTree } from "./scan-memory.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 100_000);

/** `measureTree` of `command args` through `/usr/bin/time`, plus the process's CPU time (ms, user + system). */
async function timed(command: string, args: string[], options: Parameters<typeof measureTree>[2]) {
  const out = path.join(os.tmpdir(), `backlog-bot-bench-time-${process.pid}`);
  const run = await measureTree("/usr/bin/time", ["-f", "%U %S", "-o", out, command, ...args], options);
  const [user, system] = readFileSync(out, "utf8").trim().split("\n").at(-1)?.split(" ").map(Number) ?? [Number.NaN, Number.NaN];
  rmSync(out, { force: true });
  return { ...run, cpuMs: ((user ?? Number.NaN) + (system ?? Number.NaN)) * 1000 };
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
const cli = compileCli();
const env = (dataDir: string) => ({ PATH: process.env.PATH, HOME: os.tmpdir(), BACKLOG_BOT_DATA_DIR: dataDir });
const data = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-bench-cli-"));
try {
  console.log(`${os.cpus().length} CPUs, load average ${load()}, node ${process.version}`);
  const help: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    bare.push((await measureTree(process.execPath, ["-e", "0"], { env: env(data), memory: false })).ms);
    const run = await measureTree(process.execPath, [cli, "--help"], { env: env(data), memory: false });
    if (run.code !== 0) throw new Error(`--help exited ${run.code}`);
    help.push(run.ms);
  }
  console.log(
    `\nbacklog-bot --help: median ${median(help).toFixed(0)} ms (min ${Math.min(...help).toFixed(0)}), node -e 0: median ${median(bare).toFixed(0)} ms; target <= 150 ms`,
  );

  const file = await makeStore(data, FINDINGS);
  const query = "select * from findings where resolved_at is null and dismissed_at is null order by id";
  const json: { ms: number; cpuMs: number; peak: number; bytes: number }[] = [];
  const sqlite: { ms: number; cpuMs: number; peak: number; bytes: number }[] = [];
  const floor: { ms: number; cpuMs: number; peak: number; bytes: number }[] = [];
  const floorScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "cli-json-floor.mjs");
  // Timed runs without /proc polling; one more of each polls for peak memory, untimed.
  for (let i = 0; i <= Math.min(ROUNDS, 5); i++) {
    const memory = i === Math.min(ROUNDS, 5);
    const sqliteArgs = ["-json", file, query];
    const a = memory
      ? { ...(await measureTree("sqlite3", sqliteArgs, { discardStdout: true })), ms: Number.NaN, cpuMs: Number.NaN }
      : await timed("sqlite3", sqliteArgs, { discardStdout: true, memory: false });
    sqlite.push({ ms: a.ms, cpuMs: a.cpuMs, peak: a.peakBytes, bytes: a.bytes });
    const cliArgs = [cli, "backlog", "--json"];
    const b = memory
      ? { ...(await measureTree(process.execPath, cliArgs, { env: env(data), discardStdout: true })), ms: Number.NaN, cpuMs: Number.NaN }
      : await timed(process.execPath, cliArgs, { env: env(data), discardStdout: true, memory: false });
    if (b.code !== 0) throw new Error(`backlog --json exited ${b.code}: ${b.stderr}`);
    json.push({ ms: b.ms, cpuMs: b.cpuMs, peak: b.peakBytes, bytes: b.bytes });
    // The floor (bench/cli-json-floor.mjs): the least a Node implementation does, none of the product's code.
    const floorArgs = [floorScript, file];
    const c = memory
      ? { ...(await measureTree(process.execPath, floorArgs, { env: env(data), discardStdout: true })), ms: Number.NaN, cpuMs: Number.NaN }
      : await timed(process.execPath, floorArgs, { env: env(data), discardStdout: true, memory: false });
    if (c.code !== 0) throw new Error(`cli-json-floor.mjs exited ${c.code}: ${c.stderr}`);
    floor.push({ ms: c.ms, cpuMs: c.cpuMs, peak: c.peakBytes, bytes: c.bytes });
  }
  const ms = (list: typeof json) => median(list.map((r) => r.ms).filter((v) => !Number.isNaN(v)));
  const cpu = (list: typeof json) => median(list.map((r) => r.cpuMs).filter((v) => !Number.isNaN(v)));
  const mb = (list: typeof json) => Math.max(...list.map((r) => r.peak)) / 2 ** 20;
  console.log(
    `\n${FINDINGS} findings: backlog --json median ${ms(json).toFixed(0)} ms (CPU ${cpu(json).toFixed(0)} ms), peak ${mb(json).toFixed(0)} MB, ${((json[0]?.bytes ?? 0) / 2 ** 20) | 0} MB out; sqlite3 -json median ${ms(sqlite).toFixed(0)} ms (CPU ${cpu(sqlite).toFixed(0)} ms), peak ${mb(sqlite).toFixed(0)} MB; ratio ${(ms(json) / ms(sqlite)).toFixed(2)} wall, ${(cpu(json) / cpu(sqlite)).toFixed(2)} CPU (target <= 2, <= 200 MB); load average now ${load()}`,
  );
  console.log(
    `floor (bench/cli-json-floor.mjs, not the product's output): median ${ms(floor).toFixed(0)} ms (CPU ${cpu(floor).toFixed(0)} ms), peak ${mb(floor).toFixed(0)} MB; ratio to sqlite3 -json ${(ms(floor) / ms(sqlite)).toFixed(2)} wall, ${(cpu(floor) / cpu(sqlite)).toFixed(2)} CPU`,
  );
} finally {
  rmSync(data, { recursive: true, force: true });
}
