// Prototype 3 (bench only, issue 14), a LOWER BOUND like split.mjs, with a child process instead of a worker thread:
// each process has its own heap and garbage collector threads. Same share, same unmerged output.
import { spawn } from "node:child_process";
import path from "node:path";

const dist = process.env.BENCH_DIST;
const share = Number(process.env.BENCH_WORKER_SHARE ?? 0.6);
const child = spawn(process.execPath, [new URL("./split-child.mjs", import.meta.url).pathname], { stdio: ["pipe", "pipe", "inherit"] });
const fromChild = [];
child.stdout.on("data", (chunk) => fromChild.push(chunk));
const childDone = new Promise((resolve, reject) => {
  child.once("error", reject);
  child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`child exited ${code}`))));
});
const { loadSettings } = await import(`${dist}/config/env.js`);
const settings = loadSettings();
const file = path.join(settings.dataDir, "backlog-bot.sqlite"); // the prototype knows the name; a real split would not
const ids = [1, 2, 3, 4, 5];
const childIds = ids.slice(0, Math.round(ids.length * share));
child.stdin.write(`${JSON.stringify({ file, repositoryIds: childIds })}\n`);
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
  child.stdin.end(`${JSON.stringify({ repositories })}\n`);
  const mine = [];
  await rankAndWrite(
    readRows(
      file,
      ids.filter((id) => !childIds.includes(id)),
    ),
    repositories,
    (chunk) => mine.push(chunk),
  );
  await childDone;
  for (const chunk of fromChild) process.stdout.write(chunk);
  for (const chunk of mine) process.stdout.write(chunk);
} finally {
  await db.destroy();
}
