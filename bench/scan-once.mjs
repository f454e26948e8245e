/**
 * One cold TODO scan in its own process, for bench/scan-history.ts's whole-process memory
 * measurement, on compiled modules as the CLI and the app run them (no tsx in the process):
 * `node bench/scan-once.mjs <compiled dist dir> <work tree> <now ISO> <data dir>`. Prints the
 * findings count.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";

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
const result = await scanTodos({ cwd, now: new Date(now), cache: attributionStore(db, repo.id) });
console.log(result.findings.length);
await db.destroy();
