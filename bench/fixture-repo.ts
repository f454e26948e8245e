/**
 * Builds (once, then reuses) the benchmark repository: the .js/.ts/.json/.md sources of this
 * checkout's node_modules, copied as many times as needed to pass 20,000 files, committed once.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";

/** Bump when the recipe changes, so a stale cached repository is not reused. */
const RECIPE = 2;
const MIN_FILES = 20_000;
const SOURCE_EXTENSIONS = /\.(?:[cm]?js|ts|json|md)$/;
/**
 * Directory names the scanner skips on purpose. They are renamed in the copy, or the scanner
 * would skip a third of the files and the comparison with git grep would flatter it.
 */
const SKIPPED_SEGMENTS = new Set(["node_modules", "vendor", "third_party", "dist", "build"]);

const here = path.dirname(fileURLToPath(import.meta.url));
/** The node_modules the copy is made from. */
export const SOURCE_DIR = path.resolve(here, "..", "node_modules");

/** Environment for the bench's own git commands: fixed identity, no user or system config. */
export function gitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: os.tmpdir(),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "Bench Author",
    GIT_AUTHOR_EMAIL: "bench@example.com",
    GIT_AUTHOR_DATE: "2024-01-02T03:04:05Z",
    GIT_COMMITTER_NAME: "Bench Author",
    GIT_COMMITTER_EMAIL: "bench@example.com",
    GIT_COMMITTER_DATE: "2024-01-02T03:04:05Z",
    // push-scan.ts writes its commit through a throw-away index: without this it wrote the real one.
    ...(process.env.GIT_INDEX_FILE && { GIT_INDEX_FILE: process.env.GIT_INDEX_FILE }),
  };
}

/** Runs git synchronously in `cwd` and returns its stdout. */
export function git(cwd: string, args: string[], input?: string): string {
  return execFileSync("git", args, { cwd, env: gitEnv(), input, maxBuffer: 1 << 30, encoding: "utf8" });
}

function listSources(dir: string, rel: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, entry.name);
    const relPath = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) listSources(abs, relPath, out);
    else if (entry.isFile() && SOURCE_EXTENSIONS.test(entry.name)) out.push(relPath);
  }
}

function renameSkipped(rel: string): string {
  return rel
    .split("/")
    .map((segment) => (SKIPPED_SEGMENTS.has(segment) ? `${segment}_` : segment))
    .join("/");
}

/** The benchmark repository: its work tree and the one commit it holds. */
export interface BenchRepo {
  dir: string;
  head: string;
  files: number;
}

/**
 * Returns the cached benchmark repository under the OS temp dir, building it first if needed
 * (about a minute on two cores).
 */
export function ensureBenchRepo(): BenchRepo {
  const dir = path.join(os.tmpdir(), `backlog-bot-bench-repo-v${RECIPE}`);
  const ready = path.join(dir, ".git", "bench-ready");
  if (!existsSync(ready)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const sources: string[] = [];
    listSources(SOURCE_DIR, "", sources);
    const copies = Math.ceil(MIN_FILES / sources.length);
    console.error(`building ${dir}: ${sources.length} files x ${copies} copies`);
    for (let copy = 0; copy < copies; copy++) {
      for (const rel of sources) {
        const target = path.join(dir, `copy-${copy}`, renameSkipped(rel));
        mkdirSync(path.dirname(target), { recursive: true });
        copyFileSync(path.join(SOURCE_DIR, rel), target);
      }
    }
    git(dir, ["init", "-q", "-b", "main"]);
    git(dir, ["add", "-A"]);
    git(dir, ["commit", "-q", "-m", "bench: node_modules sources"]);
    // Packed, like any clone or mirror the bot would scan; loose objects would slow down commit scans.
    git(dir, ["repack", "-adq"]);
    git(dir, ["prune-packed"]);
    writeFileSync(ready, "ok\n");
  }
  // A freshly written index lists files modified in the same second as "racily clean", and git then
  // rereads every such file on each status (400 MB here); a refresh a moment later, as any used
  // checkout has had, settles them.
  if (Date.now() - statSync(path.join(dir, ".git", "index")).mtimeMs < 2000) execFileSync("sleep", ["2"]);
  git(dir, ["update-index", "-q", "--really-refresh"]);
  const head = git(dir, ["rev-parse", "HEAD"]).trim();
  const files = git(dir, ["ls-files", "-z"]).split("\0").filter(Boolean).length;
  return { dir, head, files };
}

/** Median of some numbers (ms). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/** A full garbage collection, so one contender's garbage is not collected on the other's clock. */
export function collectGarbage(): void {
  gc();
}
