/**
 * The store of the CLI benchmark (bench/cli-startup.ts): `n` open findings of kind `todo` over 5
 * repositories, written straight through SQLite.
 */
import path from "node:path";
import { openDb, rawSqlite } from "../src/store/db.js";

/** Creates the store in `dir` and returns the SQLite file's path. */
export async function makeStore(dir: string, n: number): Promise<string> {
  const db = await openDb(dir);
  const sqlite = rawSqlite(db);
  if (!sqlite) throw new Error("no SQLite handle");
  const at = "2025-01-01T00:00:00.000Z";
  for (let r = 1; r <= 5; r++)
    sqlite
      .prepare("insert into repositories (full_name, default_branch, created_at, updated_at) values (?, 'main', ?, ?)")
      .run(`octo/repo-${r}`, at, at);
  const insert = sqlite.prepare(
    "insert into findings (repository_id, fingerprint, kind, title, body, path, line, signals, first_seen_at, last_seen_at) values (?, ?, 'todo', ?, ?, ?, ?, ?, ?, ?)",
  );
  const markers = ["TODO", "TODO", "FIXME", "HACK", "XXX", "BUG"];
  sqlite.transaction(() => {
    for (let i = 0; i < n; i++) {
      const marker = markers[i % markers.length] as string;
      const authored = new Date(Date.UTC(2019, 0, 1) + ((i * 7919) % 2000) * 86_400_000).toISOString();
      const signals = JSON.stringify({ marker, author: `Dev ${i % 50}`, authoredAt: authored });
      insert.run(
        1 + (i % 5),
        `fp-${i}`,
        `${marker === "TODO" ? "handle" : "fix"} case ${i % 20_000} in module ${i % 300}`,
        i % 3 ? null : "more words about it",
        `src/dir-${i % 40}/module-${i % 300}.c`,
        1 + (i % 900),
        signals,
        at,
        at,
      );
    }
  })();
  await db.destroy();
  return path.join(dir, "backlog-bot.sqlite");
}
