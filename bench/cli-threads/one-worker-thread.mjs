// The worker of prototype 1: reads as soon as it has the file, ranks and serialises once it has the repositories.
import { parentPort } from "node:worker_threads";
import { rankAndWrite, readRows } from "./read-rank-write.mjs";

let rows;
let repositories;
async function go() {
  if (!rows || !repositories) return;
  await rankAndWrite(rows, repositories, (chunk) => parentPort.postMessage(chunk));
  parentPort.postMessage(null);
}
parentPort.on("message", (message) => {
  if (message.file) rows = readRows(message.file);
  else repositories = message.repositories;
  void go();
});
