/**
 * The dashboard of real repositories, rendered from a full TODO scan, with the scan timed against
 * plain `git grep` over the same commit in the same run (docs/benchmarks.md, "Real repositories").
 *
 *   npx tsx bench/real-dashboards.ts <git-dir-or-work-tree> [more...]      (BENCH_BLAME=0 skips blame)
 *
 * Prints, per repository: the two timings, the finding counts, and the dashboard's "Ranked backlog"
 * section (top 20) as Markdown. Nothing of the scanned repositories is written anywhere.
 */
import { execFileSync, spawn } from "node:child_process";
import { loadavg } from "node:os";
import path from "node:path";
import { renderDashboard } from "../src/dashboard/index.js";
import { parseGitAttributes, rankBacklog } from "../src/prioritizer/index.js";
import { scanTodos } from "../src/scanners/todo.js";
import type { FindingRow } from "../src/store/schema.js";
import { collectGarbage, gitEnv } from "./fixture-repo.js";

const PATTERN = "TODO|FIXME|HACK|XXX|BUG";

function timeGitGrep(cwd: string): Promise<{ ms: number; lines: number }> {
  collectGarbage();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["grep", "-n", "-I", "-E", PATTERN, "HEAD"], { cwd, env: gitEnv(), stdio: ["ignore", "pipe", "inherit"] });
    let lines = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 || code === 1 ? resolve({ ms: performance.now() - started, lines }) : reject(new Error(`git grep exited ${code}`)),
    );
  });
}

for (const dir of process.argv.slice(2)) {
  const name = path.basename(path.dirname(dir)).replace("+", "/");
  const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: dir, env: gitEnv() }).toString().trim();
  await timeGitGrep(dir); // page cache
  const grep = await timeGitGrep(dir);
  collectGarbage();
  const started = performance.now();
  const { findings } = await scanTodos({ cwd: dir, rev: head, blame: process.env.BENCH_BLAME !== "0" });
  const scanMs = performance.now() - started;
  let attributes = "";
  try {
    attributes = execFileSync("git", ["show", `${head}:.gitattributes`], {
      cwd: dir,
      env: gitEnv(),
      stdio: ["ignore", "pipe", "ignore"],
    }).toString();
  } catch {
    // no .gitattributes
  }
  const at = new Date().toISOString();
  const rows: FindingRow[] = findings.map((f, i) => ({
    id: i + 1,
    repository_id: 1,
    fingerprint: f.fingerprint,
    kind: f.kind,
    title: f.title,
    body: f.body ?? null,
    path: f.path ?? null,
    line: f.line ?? null,
    url: null,
    issue_number: null,
    signals: JSON.stringify(f.signals),
    first_seen_at: at,
    last_seen_at: at,
    resolved_at: null,
    dismissed_at: null,
    last_task_outcome: null,
    last_task_hash: null,
    dismissed_by: null,
  }));
  const rankStarted = performance.now();
  const ranked = rankBacklog(rows, new Date(), { attributes: parseGitAttributes(attributes) });
  const rankMs = performance.now() - rankStarted;
  const body = renderDashboard({ repo: name, ref: head, backlog: ranked, limit: 20, tasks: [], lastScanAt: at, now: new Date() });
  const section = body.slice(body.indexOf("## Ranked backlog"), body.indexOf("## In progress")).trim();
  console.log(`### ${name} @ ${head.slice(0, 12)}`);
  console.log("");
  console.log(`load average ${loadavg()[0]?.toFixed(1)}; blame ${process.env.BENCH_BLAME === "0" ? "off" : "on"}`);
  console.log("");
  console.log("| step | ms | result |");
  console.log("| --- | ---: | --- |");
  console.log(`| \`git grep -n -I -E '${PATTERN}' HEAD\` | ${grep.ms.toFixed(0)} | ${grep.lines} lines |`);
  console.log(`| \`scanTodos\` (same commit) | ${scanMs.toFixed(0)} | ${findings.length} findings |`);
  console.log(`| \`rankBacklog\` | ${rankMs.toFixed(0)} | ${ranked.length} rows |`);
  console.log("");
  console.log(section);
  console.log("");
}
