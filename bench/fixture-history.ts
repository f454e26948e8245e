/**
 * Repositories with real history for the scan benchmarks (issue 14): one built here with
 * `git fast-import` (12,000 commits over three years touching the files with TODOs, with merges),
 * and a real repository checked out from a local mirror when one is present. Built once, cached
 * under the OS temp dir.
 */
import { execFileSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { git } from "./fixture-repo.js";

/** Bump when the recipe changes, so a stale cached repository is not reused. */
const RECIPE = 1;
const FILES = 300;
const COMMITS = 12_000;
/** Every this many commits a side branch changes one file and is merged back. */
const MERGE_EVERY = 200;
const START = Date.parse("2023-11-01T00:00:00Z");
/** The last commit's date; benches scan "now" = one day later, so results do not drift with the wall clock. */
export const HISTORY_END = new Date("2026-11-01T00:00:00Z");
const MARKERS = ["TODO", "FIXME", "HACK", "XXX", "BUG"];

/** A repository the history benches scan: its work tree, HEAD, and the clock to scan it with. */
export interface HistoryRepo {
  name: string;
  dir: string;
  head: string;
  commits: number;
  files: number;
  /** The scan's `now`: shortly after the last commit, as for a repository in active use. */
  now: Date;
}

/** A small deterministic PRNG, so every build is the same repository. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function describe(dir: string, name: string, now: Date): HistoryRepo {
  const head = git(dir, ["rev-parse", "HEAD"]).trim();
  const commits = Number(git(dir, ["rev-list", "--count", "HEAD"]).trim());
  const files = git(dir, ["ls-files", "-z"]).split("\0").filter(Boolean).length;
  return { name, dir, head, commits, files, now };
}

/**
 * The built repository: 300 C files of ~150 lines with a few TODO-style comments each, and
 * 12,000 commits (one every ~2 hours over three years) that insert, delete and rewrite lines,
 * sometimes TODOs, in one or two files each; every 200th commit a side branch's change is merged.
 */
export function ensureHistoryRepo(): HistoryRepo {
  const dir = path.join(os.tmpdir(), `backlog-bot-bench-history-v${RECIPE}`);
  const ready = path.join(dir, ".git", "bench-ready");
  if (!existsSync(ready)) {
    rmSync(dir, { recursive: true, force: true });
    git(os.tmpdir(), ["init", "-q", "-b", "main", dir]);
    const next = random(14);
    let serial = 0;
    const line = (): string => {
      serial++;
      if (next() < 0.04) return `  // ${MARKERS[Math.floor(next() * MARKERS.length)]}: revisit step ${serial}`;
      return `  value_${serial} = compute(${serial % 97}, state->field_${serial % 13});`;
    };
    const files = Array.from({ length: FILES }, (_, i) => ({
      path: `src/module-${String(i).padStart(3, "0")}.c`,
      lines: [`/* module ${i} */`, `// TODO: split module ${i}`, ...Array.from({ length: 150 }, line)],
    }));
    const chunks: string[] = [];
    const blob = (text: string): string => `data ${Buffer.byteLength(text)}\n${text}\n`;
    const commit = (
      ref: string,
      mark: number,
      at: number,
      message: string,
      from: number | undefined,
      merge: number | undefined,
      changed: typeof files,
    ) => {
      const when = `${Math.floor(at / 1000)} +0000`;
      chunks.push(
        `commit ${ref}\nmark :${mark}\nauthor Dev ${mark % 7} <dev${mark % 7}@example.com> ${when}\ncommitter Dev ${mark % 7} <dev${mark % 7}@example.com> ${when}\n`,
      );
      chunks.push(blob(message));
      if (from) chunks.push(`from :${from}\n`);
      if (merge) chunks.push(`merge :${merge}\n`);
      for (const file of changed) chunks.push(`M 100644 inline ${file.path}\n${blob(`${file.lines.join("\n")}\n`)}`);
      chunks.push("\n");
    };
    const edit = (file: (typeof files)[number]): void => {
      for (let e = 1 + Math.floor(next() * 3); e > 0; e--) {
        const at = 2 + Math.floor(next() * (file.lines.length - 2));
        const roll = next();
        if (roll < 0.45) file.lines.splice(at, 0, ...Array.from({ length: 1 + Math.floor(next() * 3) }, line));
        else if (roll < 0.75 && file.lines.length > 40) file.lines.splice(at, 1 + Math.floor(next() * 2));
        else file.lines[at] = line();
      }
    };
    const step = (HISTORY_END.getTime() - START) / COMMITS;
    let mark = 1;
    let head = 0;
    commit("refs/heads/main", mark, START, "initial import", undefined, undefined, files);
    head = mark++;
    for (let i = 1; i < COMMITS; i++) {
      const at = START + i * step;
      if (i % MERGE_EVERY === 0) {
        // A side branch changes one file while main changes others; the merge takes the side's file.
        const sideFile = files[Math.floor(next() * FILES)] as (typeof files)[number];
        edit(sideFile);
        commit("refs/heads/side", mark, at - step / 2, `side change ${i}`, head, undefined, [sideFile]);
        const side = mark++;
        const other = files[(files.indexOf(sideFile) + 1) % FILES] as (typeof files)[number];
        edit(other);
        commit("refs/heads/main", mark, at - step / 3, `main change ${i}`, head, undefined, [other]);
        head = mark++;
        commit("refs/heads/main", mark, at, `merge side ${i}`, head, side, [sideFile]);
        head = mark++;
        continue;
      }
      const changed = new Set([files[Math.floor(next() * FILES)], ...(next() < 0.3 ? [files[Math.floor(next() * FILES)]] : [])]);
      for (const file of changed) if (file) edit(file);
      commit(
        "refs/heads/main",
        mark,
        at,
        `change ${i}`,
        head,
        undefined,
        [...changed].filter((f) => f !== undefined),
      );
      head = mark++;
    }
    console.error(`building ${dir}: ${mark - 1} commits via git fast-import`);
    execFileSync("git", ["fast-import", "--quiet"], { cwd: dir, input: chunks.join(""), maxBuffer: 1 << 30 });
    git(dir, ["checkout", "-q", "-f", "main"]);
    git(dir, ["branch", "-q", "-D", "side"]);
    git(dir, ["repack", "-adq"]);
    git(dir, ["status", "--porcelain"]); // refreshes the index, as any used checkout has it
    writeFileSync(ready, "ok\n");
  }
  return describe(dir, "built history", new Date(HISTORY_END.getTime() + 86_400_000));
}

/** Where a local mirror of a real repository may be (set BENCH_REAL_REPO to use another). */
const REAL_MIRRORS = [process.env.BENCH_REAL_REPO, "/work/.mirror/redis+redis/repo"].filter((p): p is string => Boolean(p));

/**
 * A work-tree clone (`--shared`: objects borrowed, not copied) of the first real mirror found,
 * or undefined. Scanned "as of" its last commit (`now` = the HEAD commit's date), so the horizon
 * cuts its history where an active repository's would be cut; the code is never committed here.
 */
export function ensureRealRepo(): HistoryRepo | undefined {
  const mirror = REAL_MIRRORS.find((p) => existsSync(p));
  if (!mirror) return undefined;
  const name = path.basename(path.dirname(mirror)).replace("+", "/");
  const dir = path.join(os.tmpdir(), `backlog-bot-bench-real-${name.replace("/", "-")}`);
  if (!existsSync(path.join(dir, ".git", "bench-ready"))) {
    rmSync(dir, { recursive: true, force: true });
    execFileSync("git", ["clone", "-q", "--shared", mirror, dir]);
    // As a checkout someone works in: its index refreshed after the files' mtimes, so no entry is
    // "racily clean" (a fresh clone's are, and every `git status` without optional locks — the
    // scanner's — then re-hashes them: 0.25 s on renovate). Written a second after the checkout.
    execFileSync("sleep", ["1.1"]);
    git(dir, ["update-index", "--really-refresh", "-q"]);
    git(dir, ["status", "--porcelain"]);
    writeFileSync(path.join(dir, ".git", "bench-ready"), "ok\n");
  }
  const at = Number(git(dir, ["log", "-1", "--format=%ct"]).trim()) * 1000;
  return describe(dir, name, new Date(at));
}
