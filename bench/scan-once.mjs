/**
 * One TODO scan in its own process, on compiled modules as the CLI and the app run them (no tsx
 * in the process), for bench/scan-history.ts:
 *
 *   node bench/scan-once.mjs <compiled dist dir> <work tree> <now ISO> <data dir>
 *     scans with the store in <data dir> (cold when empty, warm after a scan); prints the findings
 *     count and the scan's time inside this process (ms, Node's start-up and module loading not counted)
 *   node bench/scan-once.mjs --grep <work tree> <pattern>
 *     runs `git grep -n -I -E <pattern>` from a fresh process the same way; prints 0 and its time (ms)
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";

if (process.argv[2] === "--grep") {
  const [cwd = ".", pattern = "TODO"] = process.argv.slice(3);
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const child = spawn("git", ["grep", "-n", "-I", "-E", pattern], { cwd, stdio: ["ignore", "pipe", "inherit"] });
    child.stdout.on("data", () => {});
    child.on("error", reject);
    child.on("close", (code) => (code === 0 || code === 1 ? resolve(code) : reject(new Error(`git grep exited ${code}`))));
  });
  console.log(0, performance.now() - started);
} else {
  const [dist = "dist", cwd = ".", now = new Date().toISOString(), dataDir = ":memory:"] = process.argv.slice(2);
  const load = (module) => import(pathToFileURL(path.resolve(dist, module)).href);
  const [{ scanTodos }, { attributionStore }, { openDb }, { upsertRepository }] = await Promise.all([
    load("scanners/todo.js"),
    load("store/attribution.js"),
    load("store/db.js"),
    load("store/repositories.js"),
  ]);
  const db = await openDb(dataDir);
  const repo = await upsertRepository(db, { fullName: cwd });
  const started = performance.now();
  const result = await scanTodos({ cwd, now: new Date(now), cache: attributionStore(db, repo.id) });
  console.log(result.findings.length, performance.now() - started);
  await db.destroy();
}
