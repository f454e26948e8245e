import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type StatefulStub, startStatefulStub } from "./crash-stub.js";
import { deliver, git, makeRemote, type Payload, payload, query, type ServerProcess, startServer, waitFor } from "./harness.js";

/**
 * The scripted agent. With `<dir>/hang` present it plays an agent that never finishes: it starts a
 * background child, and both keep writing marker files into the worktree (a dead run's edits that
 * must never reach a pushed branch). Without it, it fixes greet.js and exits. Each run appends
 * `{ agent, child, cwd, sawMarker }` to `<dir>/runs.jsonl`.
 */
export function writeAgent(dir: string): string {
  const file = path.join(dir, "agent.mjs");
  writeFileSync(
    file,
    `import { spawn } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
const dir = ${JSON.stringify(dir)};
readFileSync(0, "utf8");
const sawMarker = existsSync("dead-run-marker.txt") || existsSync("dead-child-marker.txt");
if (existsSync(dir + "/hang")) {
  const child = spawn("sh", ["-c", "while :; do date +%s%N > dead-child-marker.txt; sleep 0.05; done"], { stdio: "ignore" });
  appendFileSync(dir + "/runs.jsonl", JSON.stringify({ agent: process.pid, child: child.pid, cwd: process.cwd(), sawMarker }) + "\\n");
  let n = 0;
  setInterval(() => writeFileSync("dead-run-marker.txt", String(++n)), 50);
  console.log("thinking...");
} else {
  appendFileSync(dir + "/runs.jsonl", JSON.stringify({ agent: process.pid, child: null, cwd: process.cwd(), sawMarker }) + "\\n");
  writeFileSync("greet.js", readFileSync("greet.js", "utf8").replace("Hello world", "Hello, world!"));
  console.log("Changed greet.js: the greeting now reads Hello, world!");
}
`,
  );
  return file;
}

/** One agent run as the agent recorded it. */
export interface AgentRun {
  agent: number;
  child: number | null;
  cwd: string;
  sawMarker: boolean;
}

/** A test world: a bare remote, the stateful stub, the agent, and a server (re)started on one data dir. */
export interface CrashWorld {
  dir: string;
  dataDir: string;
  remote: string;
  gh: StatefulStub;
  server: ServerProcess;
  /** Starts the server (again) on the same data dir, in its own process group. */
  start(): Promise<ServerProcess>;
  /** `kill -9` of the server's process group. */
  crash(): Promise<void>;
  runs(): AgentRun[];
  /** Sets or clears a flag file in the world's directory (`hang`, `slow-push`). */
  flag(name: string, on: boolean): void;
  /** An `issue_comment.created` payload for issue `n` with `body`, cloning from the local remote. */
  comment(n: number, body: string, patch?: (p: Payload) => void): Payload;
  stop(): Promise<void>;
}

/** Creates a world; the server is not started. `env` is added to the server's environment. */
export async function createWorld(name: string, env: Record<string, string> = {}): Promise<CrashWorld> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `backlog-bot-${name}-`));
  const dataDir = path.join(dir, "data");
  const remote = makeRemote(dir, { "greet.js": 'export const greet = () => console.log("Hello world");\n', "README.md": "# widgets\n" });
  const agent = writeAgent(dir);
  const gh = await startStatefulStub({ maintainer: "maintain" });
  const world: CrashWorld = {
    dir,
    dataDir,
    remote,
    gh,
    server: undefined as unknown as ServerProcess,
    async start() {
      world.server = await startServer(
        gh.stub,
        dataDir,
        {
          BACKLOG_BOT_AGENT_COMMAND: `${process.execPath} ${agent}`,
          // The agent reports its pids and its child's to the test through a file outside its
          // worktree, and the test reads /proc for them: the sandbox forbids the first and puts the
          // agent in a pid namespace, so its pids would mean nothing here. The sandbox's own kill and
          // isolation have their own tests (test/integration/sandbox).
          BACKLOG_BOT_SANDBOX: "off",
          BACKLOG_BOT_LEASE_S: "5",
          ...env,
        },
        { detached: true },
      );
      return world.server;
    },
    crash: () => world.server.kill9(),
    runs: () =>
      existsSync(path.join(dir, "runs.jsonl"))
        ? readFileSync(path.join(dir, "runs.jsonl"), "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as AgentRun)
        : [],
    flag(flagName, on) {
      if (on) writeFileSync(path.join(dir, flagName), "");
      else rmSync(path.join(dir, flagName), { force: true });
    },
    comment: (n, body, patch) =>
      payload("issue_comment.created", (p) => {
        p.repository.clone_url = `file://${remote}`;
        p.issue.number = n;
        p.comment.body = body;
        p.comment.id = 3000 + n;
        patch?.(p);
      }),
    async stop() {
      await world.server?.stop();
      if (process.env.E2E_LOG) appendFileSync(process.env.E2E_LOG, world.server?.output() ?? "");
      await gh.stub.close();
    },
  };
  mkdirSync(dataDir, { recursive: true });
  return world;
}

/**
 * Makes the remote's receive-pack stall while `<dir>/slow-push` exists (a slow GitHub mid-push): a
 * hook that records its pid and its `sleep` child's in `<dir>/hook.json` and sleeps. `pre-receive`
 * stalls before the branch is updated; `post-receive` after it was (the push has landed, but
 * `git push` has not returned).
 */
export function slowPushHook(world: CrashWorld, name: "pre-receive" | "post-receive" = "pre-receive"): void {
  const hook = path.join(world.remote, "hooks", name);
  const flag = path.join(world.dir, "slow-push");
  const out = path.join(world.dir, "hook.json");
  writeFileSync(
    hook,
    `#!/bin/sh
cat >/dev/null
if [ -e '${flag}' ]; then
  sleep 600 &
  echo "{\\"hook\\": $$, \\"sleep\\": $!}" > '${out}.tmp' && mv '${out}.tmp' '${out}'
  wait
  exit 1
fi
exit 0
`,
    { mode: 0o755 },
  );
}

/** Sends a delivery and returns its id when it was acknowledged (2xx). */
export async function deliverAcked(world: CrashWorld, body: Payload, id?: string): Promise<string> {
  const response = await deliver(world.server, "issue_comment", body, id ? { id } : {});
  if (response.status < 200 || response.status > 299) throw new Error(`delivery answered ${response.status}`);
  return response.id;
}

/** True when `pid` runs (a zombie waiting for its parent to reap it is dead). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Task rows as the tests read them. */
export interface TaskRow {
  id: number;
  state: string;
  issue_number: number;
  branch: string | null;
  pr_number: number | null;
  attempts: number;
  reply_pending: string | null;
}

export const tasksOf = (world: CrashWorld) => query<TaskRow>(world.dataDir, "select * from tasks order by id");

/** Waits until issue `n`'s task has ended `state` and its final reply was posted (the reply job is done). */
export async function settled(world: CrashWorld, n: number, state: string, ms = 60_000): Promise<TaskRow> {
  return waitFor(
    () => {
      const task = tasksOf(world).find((t) => t.issue_number === n && t.state === state && t.reply_pending === null);
      return task && world.gh.marked(n, `task-${task.id}:${state}:`).length > 0 ? task : undefined;
    },
    ms,
    `issue #${n}'s task to end ${state} and say so`,
  );
}

/** Branches of the remote under `backlog-bot/`. */
export function botBranches(world: CrashWorld): string[] {
  return git(world.remote, "for-each-ref", "--format=%(refname:short)", "refs/heads/backlog-bot/").split("\n").filter(Boolean);
}

/** File names in the tree of `ref` in the remote. */
export function filesAt(world: CrashWorld, ref: string): string[] {
  return git(world.remote, "ls-tree", "-r", "--name-only", ref).split("\n").filter(Boolean);
}
