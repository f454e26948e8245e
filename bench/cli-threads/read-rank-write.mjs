// Prototype (bench only, issue 14): the CLI's `backlog --json` work on a thread of its own. Not product code:
// `readRows` copies `openRows` of src/cli/print-backlog.ts so that a worker can read without the store's Kysely handle.
import { createRequire } from "node:module";
import { Writable } from "node:stream";

const dist = process.env.BENCH_DIST;
const SQLite = createRequire(import.meta.url)("better-sqlite3");
const [{ streamBacklog }, { writeJson }] = await Promise.all([import(`${dist}/prioritizer/index.js`), import(`${dist}/cli/format.js`)]);

// store/findings.js loads Kysely (about 85 ms): started now, while the thread waits for its file, awaited after the read.
const findings = import(`${dist}/store/findings.js`);

const COLUMNS =
  "id, repository_id, fingerprint, kind, title, path, line, url, issue_number, signals, first_seen_at, last_seen_at, last_task_outcome, last_task_hash, dismissed_by";

/** The open findings of `repositoryIds` (all when undefined), as `openRows` reads them, from a read-only connection of its own. */
export function readRows(file, repositoryIds) {
  const db = new SQLite(file, { readonly: true });
  try {
    const where = repositoryIds ? `and repository_id in (${repositoryIds.map(Number).join(",")})` : "";
    const statement = db
      .prepare(`select ${COLUMNS} from findings where resolved_at is null and dismissed_at is null ${where} order by id`)
      .raw(true);
    const rows = [];
    let firstSeen = "";
    let lastSeen = "";
    for (const v of statement.iterate()) {
      if (v[10] !== firstSeen) firstSeen = v[10];
      if (v[11] !== lastSeen) lastSeen = v[11];
      rows.push({
        id: v[0],
        repository_id: v[1],
        fingerprint: v[2],
        kind: v[3],
        title: v[4],
        body: null,
        path: v[5],
        line: v[6],
        url: v[7],
        issue_number: v[8],
        signals: v[9],
        first_seen_at: firstSeen,
        last_seen_at: lastSeen,
        resolved_at: null,
        dismissed_at: null,
        last_task_outcome: v[12],
        last_task_hash: v[13],
        dismissed_by: v[14],
      });
    }
    return rows;
  } finally {
    db.close();
  }
}

/** Ranks `rows` and serialises them as `writeJson` does, handing each 64 KB text chunk to `sink`. */
export async function rankAndWrite(rows, repositories, sink) {
  const { withoutDashboardIssues } = await findings;
  const backlog = streamBacklog(withoutDashboardIssues(rows, repositories), new Date(), {});
  rows.length = 0;
  const names = new Map(repositories.map((r) => [r.id, r.full_name]));
  await writeJson(
    backlog.rows,
    names,
    new Writable({
      write(chunk, _encoding, done) {
        sink(chunk.toString());
        done();
      },
    }),
  );
}
