import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * Every child process group this server starts is written down as one file under
 * `<dataDir>/run/children/<pgid>` while it lives, so that a server started after a `kill -9` can
 * kill the process groups its dead predecessor left (agents, git, verify commands and whatever
 * they started in the background). Without a data dir (CLI, tests) groups are only tracked in memory.
 */
interface Entry {
  /** Process group id (= the leader's pid: every child is started with `detached: true`). */
  pgid: number;
  /** The leader's start time in clock ticks since boot (`/proc/<pid>/stat` field 22): tells a reused pid apart. */
  startTicks: number;
  /** The server process that started it, and its start time (a reused pid is not the owner). */
  owner: number;
  ownerStartTicks: number;
  command: string;
}

let directory: string | undefined;
const live = new Map<number, Entry>();

/**
 * Points the registry at `<dataDir>/run/children/` (created if missing). Call once at start,
 * before `killLeftovers()` and before the first child is spawned.
 */
export function initProcessRegistry(dataDir: string): void {
  directory = path.join(dataDir, "run", "children");
  mkdirSync(directory, { recursive: true, mode: 0o700 });
}

/** Reads field 22 (starttime) and field 5 (pgrp) of `/proc/<pid>/stat`; undefined when the process is gone. */
export function procStat(pid: number): { startTicks: number; pgid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { pgid: Number(fields[2]), startTicks: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

/** Records a freshly started process group (its leader is `pid`). */
export function registerChild(pid: number, command: string): void {
  const entry: Entry = {
    pgid: pid,
    startTicks: procStat(pid)?.startTicks ?? 0,
    owner: process.pid,
    ownerStartTicks: procStat(process.pid)?.startTicks ?? 0,
    command,
  };
  live.set(pid, entry);
  if (!directory) return;
  try {
    writeFileSync(path.join(directory, String(pid)), JSON.stringify(entry), { mode: 0o600 });
  } catch {
    // A registry that cannot be written only weakens clean-up after a crash; the child still runs.
  }
}

/** Forgets a process group once it has been killed and its leader reaped. */
export function unregisterChild(pid: number): void {
  live.delete(pid);
  if (directory) rmSync(path.join(directory, String(pid)), { force: true });
}

/** Sends `signal` to the whole group; false when no process of it is left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * The members of process group `pgid` that started no earlier than its leader did (a group id is a
 * pid, and pids are reused: a process older than the recorded leader cannot belong to that group).
 */
function groupMembers(pgid: number, sinceTicks: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(Number(name));
    if (stat && stat.pgid === pgid && stat.startTicks >= sinceTicks) members.push(Number(name));
  }
  return members;
}

/**
 * Kills (SIGKILL) every process group a dead predecessor recorded and clears the registry; groups of
 * a live owner (another server on the same data dir) are left alone. Call at start, after
 * `initProcessRegistry`, before tasks are requeued.
 * @returns how many groups still had processes and were killed.
 */
export function killLeftovers(): number {
  if (!directory) return 0;
  let killed = 0;
  for (const name of readdirSync(directory)) {
    const file = path.join(directory, name);
    let entry: Entry;
    try {
      entry = JSON.parse(readFileSync(file, "utf8")) as Entry;
    } catch {
      rmSync(file, { force: true });
      continue;
    }
    if (entry.owner !== process.pid && isOwnerAlive(entry.owner, entry.ownerStartTicks)) continue;
    const members = groupMembers(entry.pgid, entry.startTicks);
    if (members.length > 0) {
      killed++;
      signalGroup(entry.pgid, "SIGKILL");
      // A member that left the group (setsid) is not reached by the group signal: kill it by pid.
      for (const pid of members) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    rmSync(file, { force: true });
  }
  return killed;
}

/** A recorded owner is alive when its pid exists, started when the owner did, and is not a zombie. */
function isOwnerAlive(pid: number, startTicks: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] !== "Z" && Number(fields[19]) === startTicks;
  } catch {
    return false;
  }
}

/**
 * Kills (SIGKILL) every process group this process started and has not yet reaped: call from the
 * server's stop, after the executor has been asked to stop, so nothing it started outlives it.
 * @returns the number of groups signalled.
 */
export function killAllChildren(): number {
  let count = 0;
  for (const entry of live.values()) if (signalGroup(entry.pgid, "SIGKILL")) count++;
  return count;
}

/** The process groups this process currently tracks (for /health and tests). */
export function liveChildren(): ReadonlyArray<{ pgid: number; command: string }> {
  return [...live.values()].map(({ pgid, command }) => ({ pgid, command }));
}
