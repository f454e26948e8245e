/**
 * One cold TODO scan in its own process, for bench/scan-history.ts's whole-process memory
 * measurement: `tsx bench/scan-once.ts <work tree> <now ISO> <data dir>`. Prints the findings count.
 */
import { scanTodos } from "../src/scanners/todo.js";
import { attributionStore } from "../src/store/attribution.js";
import { openDb } from "../src/store/db.js";
import { upsertRepository } from "../src/store/repositories.js";

const [cwd = ".", now = new Date().toISOString(), dataDir = ":memory:"] = process.argv.slice(2);
const db = await openDb(dataDir);
const repo = await upsertRepository(db, { fullName: cwd });
const result = await scanTodos({ cwd, now: new Date(now), cache: attributionStore(db, repo.id) });
console.log(result.findings.length);
await db.destroy();
