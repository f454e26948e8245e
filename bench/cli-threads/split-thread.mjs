// The worker of prototype 2: reads its repositories' rows at once, ranks and serialises them, sends the text back.
import { parentPort } from "node:worker_threads";
import { rankAndWrite, readRows } from "./read-rank-write.mjs";

let rows;
parentPort.on("message", async (message) => {
  if (message.file) {
    rows = readRows(message.file, message.repositoryIds);
    return;
  }
  const chunks = [];
  await rankAndWrite(rows, message.repositories, (chunk) => chunks.push(chunk));
  parentPort.postMessage(chunks.join(""));
});
