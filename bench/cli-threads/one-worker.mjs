// Prototype 1 (bench only, issue 14): a worker thread reads, ranks and serialises every row while the main thread
// imports and opens the store as `withDb` does (settings through zod, Kysely's migration check); main writes the chunks.
import path from "node:path";
import { Worker } from "node:worker_threads";

const dist = process.env.BENCH_DIST;
const worker = new Worker(new URL("./one-worker-thread.mjs", import.meta.url));
const finished = new Promise((resolve, reject) => {
  worker.on("message", (chunk) => (chunk === null ? resolve() : process.stdout.write(chunk)));
  worker.once("error", reject);
});
const [{ loadSettings }, { openDb, DATABASE_FILE }, { listRepositories }] = await Promise.all([
  import(`${dist}/config/env.js`),
  import(`${dist}/store/db.js`),
  import(`${dist}/store/repositories.js`),
]);
const settings = loadSettings();
worker.postMessage({ file: path.join(settings.dataDir, DATABASE_FILE) });
const db = await openDb(settings.dataDir);
try {
  const repositories = (await listRepositories(db)).map((r) => ({
    id: r.id,
    full_name: r.full_name,
    dashboard_issue_number: r.dashboard_issue_number,
  }));
  worker.postMessage({ repositories });
  await finished;
} finally {
  await db.destroy();
  await worker.terminate();
}
