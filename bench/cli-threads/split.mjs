// Prototype 2 (bench only, issue 14), a LOWER BOUND: the repositories split between a worker and the main thread, each
// reading, ranking and serialising its share; the worker starts once zod's settings give the data directory. The two
// rankings are NOT merged into one rank order (the worker's rows are printed first, each share ranked 1..n): a real
// split must also merge them, which costs more.
import path from "node:path";
import { Worker } from "node:worker_threads";

const dist = process.env.BENCH_DIST;
const share = Number(process.env.BENCH_WORKER_SHARE ?? 0.6);
const worker = new Worker(new URL("./split-thread.mjs", import.meta.url));
const fromWorker = new Promise((resolve, reject) => {
  worker.once("message", resolve);
  worker.once("error", reject);
});
const { loadSettings } = await import(`${dist}/config/env.js`);
const settings = loadSettings();
const file = path.join(settings.dataDir, "backlog-bot.sqlite"); // the prototype knows the name; a real split would not
// Repository ids 1..5 as the bench's store has them; the worker takes `share` of them.
const ids = [1, 2, 3, 4, 5];
const workerIds = ids.slice(0, Math.round(ids.length * share));
worker.postMessage({ file, repositoryIds: workerIds });
const [{ openDb }, { listRepositories }, { rankAndWrite, readRows }] = await Promise.all([
  import(`${dist}/store/db.js`),
  import(`${dist}/store/repositories.js`),
  import("./read-rank-write.mjs"),
]);
const db = await openDb(settings.dataDir);
try {
  const repositories = (await listRepositories(db)).map((r) => ({
    id: r.id,
    full_name: r.full_name,
    dashboard_issue_number: r.dashboard_issue_number,
  }));
  worker.postMessage({ repositories });
  const mine = [];
  await rankAndWrite(
    readRows(
      file,
      ids.filter((id) => !workerIds.includes(id)),
    ),
    repositories,
    (chunk) => mine.push(chunk),
  );
  process.stdout.write(await fromWorker);
  for (const chunk of mine) process.stdout.write(chunk);
} finally {
  await db.destroy();
  await worker.terminate();
}
