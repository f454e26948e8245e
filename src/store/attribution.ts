import type { FileKey, FileVersion, ScanCache, ScanState } from "../scanners/attribution-cache.js";
import type { LineAuthor } from "../scanners/blame-history.js";
import { loadTodoFindings, storedTodoFindings } from "../scanners/todo-extract.js";
import { type Db, now } from "./db.js";

/** Rows per multi-row INSERT: 7 columns x 400 rows stays far below SQLite's 32,766 bound parameters. */
const BATCH = 400;
/** Paths per `IN (...)` lookup. */
const LOOKUP = 500;
/**
 * Above this many keys one query reads every version of the settings (about one per file with
 * TODOs, as `prune` keeps it) instead of naming their paths: for a rescan's 300 keys, compiling
 * and preparing the `IN` list cost more than the rows it left out (built bench repository, warm
 * rescan 3.3 -> 3.0 ms in one process).
 */
const READ_ALL = 100;

/**
 * The `dirty` column (JSON): the work tree's state at the last scan. A plain array of uncommitted
 * paths, as first written; with an index stamp (`ScanState.index`), an object holding both, so the
 * stamp needs no migration of its own.
 */
interface WorkTreeColumn {
  paths: string[];
  index?: string;
}

/** `[line, commit, author, authoredAt, before]`: compact, since a large repository has 100,000 of them. */
type AuthorRow = [number, string, string, string, 0 | 1];

function encodeAuthors(authors: Map<number, LineAuthor>): string {
  const rows: AuthorRow[] = [...authors].map(([line, by]) => [line, by.commit, by.author, by.authoredAt, by.before ? 1 : 0]);
  return JSON.stringify(rows);
}

function decodeAuthors(json: string): Map<number, LineAuthor> {
  const rows = JSON.parse(json) as AuthorRow[];
  return new Map(
    rows.map(([line, commit, author, authoredAt, before]) => [line, { commit, author, authoredAt, ...(before ? { before: true } : {}) }]),
  );
}

/**
 * `decode()`, or undefined when the stored text does not decode (a row damaged outside this
 * code): the cache then misses, and the scan attributes the file again and overwrites the row,
 * rather than failing every scan of the repository.
 */
function readable<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch {
    return undefined;
  }
}

/**
 * The TODO scanner's cache (`ScanCache`) for one repository, in the store: tables
 * `attribution_versions` and `attribution_scans` (migrations 0004 and 0009). Recording a complete scan
 * also drops the versions it no longer lists, so the table holds about one version per file with
 * TODOs (plus those pushes added since).
 */
export function attributionStore(db: Db, repositoryId: number): ScanCache {
  /** The stored rows among `keys`, with `columns`: by path, or every row of the settings when `keys` are many. */
  const read = async <C extends "findings" | "authors">(settings: string, keys: FileKey[], columns: ("path" | "blob" | C)[]) => {
    if (keys.length === 0) return [];
    const wanted = new Set(keys.map((k) => `${k.path}\0${k.blob}`));
    const base = db
      .selectFrom("attribution_versions")
      .select(columns)
      .where("repository_id", "=", repositoryId)
      .where("settings", "=", settings);
    const rows = [];
    if (keys.length > READ_ALL) rows.push(...(await base.execute()));
    else {
      const paths = [...new Set(keys.map((k) => k.path))];
      for (let i = 0; i < paths.length; i += LOOKUP) rows.push(...(await base.where("path", "in", paths.slice(i, i + LOOKUP)).execute()));
    }
    return rows.filter((r) => wanted.has(`${r.path}\0${r.blob}`));
  };
  return {
    async lastScan(settings) {
      const row = await db
        .selectFrom("attribution_scans")
        .select(["commit_id", "files", "dirty"])
        .where("repository_id", "=", repositoryId)
        .where("settings", "=", settings)
        .executeTakeFirst();
      if (!row) return undefined;
      return readable(() => {
        const files = (JSON.parse(row.files) as [string, string][]).map(([path, blob]) => ({ path, blob }));
        const tree = JSON.parse(row.dirty) as string[] | WorkTreeColumn;
        if (Array.isArray(tree)) return { commit: row.commit_id, files, dirty: tree };
        return { commit: row.commit_id, files, dirty: tree.paths, ...(tree.index && { index: tree.index }) };
      });
    },

    async getFindings(settings, keys) {
      const rows = await read(settings, keys, ["path", "blob", "findings"]);
      return rows.flatMap((r) => readable(() => [{ path: r.path, blob: r.blob, findings: loadTodoFindings(r.path, r.findings) }]) ?? []);
    },

    async getAuthors(settings, keys) {
      const rows = await read(settings, keys, ["path", "blob", "authors"]);
      return rows.flatMap((r) => readable(() => [{ path: r.path, blob: r.blob, authors: decodeAuthors(r.authors) }]) ?? []);
    },

    async save(settings, versions: FileVersion[], scan?: ScanState) {
      const at = now();
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < versions.length; i += BATCH) {
          const values = versions.slice(i, i + BATCH).map((v) => ({
            repository_id: repositoryId,
            settings,
            path: v.path,
            blob: v.blob,
            findings: storedTodoFindings(v.findings),
            authors: encodeAuthors(v.authors),
            created_at: at,
          }));
          await trx
            .insertInto("attribution_versions")
            .values(values)
            .onConflict((oc) =>
              oc.columns(["repository_id", "settings", "path", "blob"]).doUpdateSet((eb) => ({
                findings: eb.ref("excluded.findings"),
                authors: eb.ref("excluded.authors"),
              })),
            )
            .execute();
        }
        if (!scan) return;
        const files = JSON.stringify(scan.files.map((f: FileKey) => [f.path, f.blob]));
        const dirty = JSON.stringify(
          scan.index ? ({ paths: scan.dirty ?? [], index: scan.index } satisfies WorkTreeColumn) : (scan.dirty ?? []),
        );
        await trx
          .insertInto("attribution_scans")
          .values({ repository_id: repositoryId, settings, commit_id: scan.commit, files, dirty, scanned_at: at })
          .onConflict((oc) =>
            oc.columns(["repository_id", "settings"]).doUpdateSet({ commit_id: scan.commit, files, dirty, scanned_at: at }),
          )
          .execute();
        await prune(trx, repositoryId, settings, scan.files);
      });
    },
  };
}

/** Drops the settings' versions that the latest complete scan does not list. */
async function prune(db: Db, repositoryId: number, settings: string, files: FileKey[]): Promise<void> {
  const keep = new Set(files.map((f) => `${f.path}\0${f.blob}`));
  const stored = await db
    .selectFrom("attribution_versions")
    .select(["path", "blob"])
    .where("repository_id", "=", repositoryId)
    .where("settings", "=", settings)
    .execute();
  const stale = stored.filter((r) => !keep.has(`${r.path}\0${r.blob}`));
  for (const row of stale) {
    await db
      .deleteFrom("attribution_versions")
      .where("repository_id", "=", repositoryId)
      .where("settings", "=", settings)
      .where("path", "=", row.path)
      .where("blob", "=", row.blob)
      .execute();
  }
}
