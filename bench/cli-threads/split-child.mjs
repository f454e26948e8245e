// The child of prototype 3: the first stdin line gives the file and its repositories (read at once), the second the
// repositories' names; it ranks, serialises and writes its share to stdout.
import { createInterface } from "node:readline";
import { rankAndWrite, readRows } from "./read-rank-write.mjs";

let rows;
for await (const line of createInterface({ input: process.stdin })) {
  const message = JSON.parse(line);
  if (message.file) rows = readRows(message.file, message.repositoryIds);
  else {
    const chunks = [];
    await rankAndWrite(rows, message.repositories, (chunk) => chunks.push(chunk));
    process.stdout.write(chunks.join(""));
  }
}
