/**
 * Peak memory of a whole process tree, by polling /proc (Linux): the sum of the resident set
 * sizes of a process and all its descendants, sampled every `intervalMs`. `/usr/bin/time -v`
 * reports only the largest single process, which misses git children running side by side.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const PAGE = 4096;

/** pid -> [parent pid, resident pages], of every process now alive. */
function processTable(): Map<number, [number, number]> {
  const table = new Map<number, [number, number]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      table.set(Number(name), [Number(fields[1]), Number(fields[21])]);
    } catch {
      // gone between the listing and the read
    }
  }
  return table;
}

/** Resident bytes of `root` and every descendant. */
function treeRss(root: number): number {
  const table = processTable();
  const children = new Map<number, number[]>();
  for (const [pid, [ppid]] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  let bytes = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    bytes += (table.get(pid)?.[1] ?? 0) * PAGE;
    stack.push(...(children.get(pid) ?? []));
  }
  return bytes;
}

/** Runs `command args` (with `memory: false`, no /proc polling) and resolves its wall time (ms), exit code, stdout (and its size in bytes), and peak tree RSS (bytes). */
export function measureTree(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; intervalMs?: number; discardStdout?: boolean; memory?: boolean } = {},
): Promise<{ ms: number; code: number | null; peakBytes: number; stdout: string; stderr: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let bytes = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (!options.discardStdout) stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    let peakBytes = 0;
    // Polling /proc costs CPU that the measured process then lacks: time and memory are measured in separate runs.
    const timer =
      options.memory === false
        ? undefined
        : setInterval(() => {
            if (child.pid) peakBytes = Math.max(peakBytes, treeRss(child.pid));
          }, options.intervalMs ?? 5);
    child.on("error", (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearInterval(timer);
      resolve({ ms: performance.now() - started, code, peakBytes, stdout, stderr, bytes });
    });
  });
}
