/**
 * A floor for `backlog-bot backlog --json` in Node (issue 14; docs/benchmarks.md, section 5): the
 * least any JavaScript implementation of the command does, written with none of the product's code.
 * It opens the SQLite file with better-sqlite3 alone (no Kysely, no migration check, no settings),
 * reads the open findings' columns the output needs, parses each row's signals, gives each a score
 * (kind, marker, age: three terms of the real nine, no path classes, no groups), sorts, and writes
 * every row with a three-part breakdown as one JSON array, 64 KiB at a time with back-pressure, as
 * the CLI does. Its output is not the product's; its cost per row is below the product's.
 *
 *   node bench/cli-json-floor.mjs <store file> > /dev/null     (timings on stderr)
 *
 * bench/cli-startup.ts builds such a store (100,000 findings); this script is timed by hand beside
 * `sqlite3 -json` on the same file, see docs/benchmarks.md.
 */
import Database from "better-sqlite3";

const DAY_MS = 86_400_000;
const QUERY =
  "select repository_id, fingerprint, kind, title, path, line, url, issue_number, signals, first_seen_at, last_seen_at from findings where resolved_at is null and dismissed_at is null order by id";

const t0 = performance.now();
const db = new Database(process.argv[2], { readonly: true, fileMustExist: true });
const now = Date.now();
const rows = [];
for (const v of db.prepare(QUERY).raw(true).iterate()) {
  const signals = JSON.parse(v[8]);
  const since = Date.parse(signals.authoredAt ?? v[9]);
  const days = (now - since) / DAY_MS;
  const age = Math.min(24, Math.round(Math.log2(1 + days) * 3));
  const marker = signals.marker === "FIXME" || signals.marker === "BUG" ? 15 : 4;
  rows.push({ v, signals, since, age, marker, score: 10 + marker + age });
}
const t1 = performance.now();
rows.sort((a, b) => b.score - a.score || a.since - b.since || (a.v[4] < b.v[4] ? -1 : a.v[4] > b.v[4] ? 1 : a.v[5] - b.v[5]));
const t2 = performance.now();
const out = process.stdout;
let chunk = "[";
for (let i = 0; i < rows.length; i++) {
  const r = rows[i];
  const v = r.v;
  const row = {
    rank: i + 1,
    score: r.score,
    breakdown: [
      { signal: "kind", points: 10, reason: `kind ${v[2]}` },
      { signal: "marker", points: r.marker, reason: `marker ${r.signals.marker}` },
      { signal: "age", points: r.age, reason: `${Math.floor((now - r.since) / DAY_MS)} days old` },
    ],
    kind: v[2],
    repository: `repository ${v[0]}`,
    title: v[3],
    location: `${v[4]}:${v[5]}`,
    path: v[4],
    line: v[5],
    url: v[6],
    issueNumber: v[7],
    fingerprint: v[1],
    count: 1,
    signals: r.signals,
    firstSeenAt: v[9],
    lastSeenAt: v[10],
  };
  chunk += `${i === 0 ? "\n" : ",\n"}${JSON.stringify(row)}`;
  if (chunk.length >= 64 * 1024) {
    if (!out.write(chunk)) await new Promise((resolve) => out.once("drain", resolve));
    chunk = "";
  }
}
out.write(`${chunk}\n]\n`);
const t3 = performance.now();
process.stderr.write(
  `${rows.length} rows: read and score ${(t1 - t0).toFixed(0)} ms, sort ${(t2 - t1).toFixed(0)} ms, write ${(t3 - t2).toFixed(0)} ms; ${performance.now().toFixed(0)} ms since the process started\n`,
);
