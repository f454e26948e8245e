import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCommandAgent } from "../../../src/executor/agents/command.js";
import type { AgentRunResult } from "../../../src/executor/agents/types.js";
import { createWorktree, syncMirror } from "../../../src/git/workspace.js";
import { configureSandbox } from "../../../src/sandbox/status.js";
import { cloneBare, commitFiles, initRepo, makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { CANARY_MARKERS, plantCanaries, runningWithArg } from "../agents/helpers.js";

interface Attempt {
  attempt: string;
  ok: boolean;
  code: string | number | null;
  detail: string;
}

async function listen(handler: (body: string) => string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(handler(req.url ?? ""));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/**
 * Issue 11: a hostile command agent, standing in for a prompt-injected one, tries each attack in
 * turn inside the real sandbox (bubblewrap + the library's proxy); each must fail with its own
 * error, while editing the worktree and reaching the allowlisted model server still work.
 */
describe("a hostile agent inside the sandbox", () => {
  const root = makeTempDir("backlog-bot-hostile-");
  const dataDir = path.join(root, "data");
  const keyPath = path.join(root, "secrets", "app.private-key.pem");
  const storePath = path.join(dataDir, "backlog-bot.sqlite");
  const marker = `300.${String(Math.random()).slice(2, 10)}`;
  let restore: () => void;
  let model: Server;
  let blocked: Server;
  let result: AgentRunResult;
  let attempts: Map<string, Attempt>;
  let worktree: string;
  let mirror: string;
  let before: { store: string; config: string; gitFile: string };
  let blockedHits = 0;

  beforeAll(async () => {
    restore = plantCanaries();
    mkdirSync(path.dirname(keyPath), { recursive: true });
    writeFileSync(keyPath, "-----BEGIN RSA PRIVATE KEY-----\ncanaryPrivateKeyBody\n-----END RSA PRIVATE KEY-----\n", { mode: 0o600 });
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(storePath);
    db.exec("create table secrets (value text); insert into secrets values ('store-canary');");
    db.close();
    const work = initRepo();
    commitFiles(work, { "hello.txt": "hello world\n" });
    const remote = cloneBare(work);
    mirror = await syncMirror({ dataDir, fullName: "o/r", cloneUrl: remote, defaultBranch: "main" });
    worktree = (await createWorktree(mirror, dataDir, 1, "backlog-bot/t1", "main", 1)).worktree;
    const other = (await createWorktree(mirror, dataDir, 2, "backlog-bot/t2", "main", 1)).worktree;
    writeFileSync(path.join(other, "notes.txt"), "other task's work\n");
    const home = path.join(dataDir, "homes", "task-1-run-1");
    mkdirSync(home, { recursive: true });
    before = {
      store: sha(storePath),
      config: sha(path.join(mirror, "config")),
      gitFile: readFileSync(path.join(worktree, ".git"), "utf8"),
    };

    const allowed = await listen(() => JSON.stringify({ data: [{ id: "scripted-model" }] }));
    model = allowed.server;
    const denied = await listen(() => {
      blockedHits++;
      return "{}";
    });
    blocked = denied.server;
    configureSandbox({ mode: "on", hidden: [dataDir, keyPath] });

    const plan = {
      serverPid: process.pid,
      canaries: CANARY_MARKERS,
      keyPath,
      storePath,
      otherWorktreeFile: path.join(other, "notes.txt"),
      mirror,
      blockedPort: denied.port,
      allowedPort: allowed.port,
      editFile: path.join(worktree, "hello.txt"),
      marker,
    };
    const script = path.resolve("test/fixtures/hostile-agent.mjs");
    const agent = createCommandAgent(script, {}, [`127.0.0.1:${allowed.port}`]);
    result = await agent.run({
      prompt: JSON.stringify(plan),
      worktree,
      home,
      transcriptPath: path.join(root, "transcript.log"),
      timeoutMs: 60_000,
      maxOutputBytes: 1024 * 1024,
    });
    const transcript = readFileSync(result.transcriptPath, "utf8");
    attempts = new Map(
      transcript
        .split("\n")
        .filter((line) => line.startsWith('{"attempt"'))
        .map((line) => JSON.parse(line) as Attempt)
        .map((a) => [a.attempt, a]),
    );
  });

  afterAll(async () => {
    restore();
    configureSandbox({ mode: "on", hidden: [] });
    await new Promise((resolve) => model.close(resolve));
    await new Promise((resolve) => blocked.close(resolve));
    removeDir(root);
  });

  const attempt = (name: string): Attempt => {
    const found = attempts.get(name);
    if (!found) throw new Error(`the agent did not report "${name}"; it reported: ${[...attempts.keys()].join(", ")}`);
    return found;
  };

  it("ran to the end inside the sandbox", () => {
    expect(result.outcome, result.error).toBe("finished");
    expect(attempts.size).toBe(15);
  });

  it("cannot read the server's /proc/<pid>/environ: another PID namespace", () => {
    expect(attempt("server-environ")).toMatchObject({ ok: false, code: "ENOENT" });
  });

  it("finds no secret in any /proc/*/environ it can see, and does not see the server", () => {
    const all = attempt("all-environ");
    expect(all.ok).toBe(false);
    const detail = JSON.parse(all.detail) as { pids: number; leaked: string[]; serverVisible: boolean };
    expect(detail.leaked).toEqual([]);
    expect(detail.serverVisible).toBe(false);
    expect(detail.pids).toBeLessThan(20); // only the sandbox's own few processes
  });

  it("cannot read the private key file planted outside the worktree", () => {
    expect(attempt("private-key")).toMatchObject({ ok: false, code: "ENOENT" });
  });

  it("cannot read or write the SQLite store", () => {
    expect(attempt("store-read")).toMatchObject({ ok: false, code: "ENOENT" });
    expect(attempt("store-write")).toMatchObject({ ok: false, code: "ENOENT" });
    expect(sha(storePath)).toBe(before.store);
  });

  it("cannot read another task's worktree", () => {
    expect(attempt("other-worktree")).toMatchObject({ ok: false, code: "ENOENT" });
  });

  it("cannot write the mirror's config or hooks (read-only for the worktree's git)", () => {
    expect(attempt("mirror-config")).toMatchObject({ ok: false, code: "EROFS" });
    expect(attempt("mirror-hooks")).toMatchObject({ ok: false, code: "EROFS" });
    expect(sha(path.join(mirror, "config"))).toBe(before.config);
  });

  it("cannot rewrite or remove the worktree's .git file", () => {
    expect(attempt("git-file-rewrite")).toMatchObject({ ok: false, code: "EROFS" });
    expect(attempt("git-file-remove")).toMatchObject({ ok: false, code: "EBUSY" });
    expect(readFileSync(path.join(worktree, ".git"), "utf8")).toBe(before.gitFile);
  });

  it("cannot reach a local port that is not allowlisted, through the proxy or around it; the denial is counted", () => {
    const proxied = attempt("blocked-port-proxy");
    expect(proxied).toMatchObject({ ok: false, code: 403 });
    expect(proxied.detail).toMatch(/blocked-by-allowlist/);
    expect(attempt("blocked-port-direct")).toMatchObject({ ok: false, code: "ECONNREFUSED" });
    expect(blockedHits).toBe(0);
    expect(result.denials).toBeGreaterThanOrEqual(1);
  });

  it("still does the allowed work: reaches the allowlisted model server and edits the worktree", () => {
    expect(attempt("allowed-model")).toMatchObject({ ok: true, code: 200 });
    expect(attempt("allowed-model").detail).toContain("scripted-model");
    expect(attempt("edit-worktree").ok).toBe(true);
    expect(readFileSync(path.join(worktree, "hello.txt"), "utf8")).toBe("edited by the hostile agent\n");
  });

  it("leaves no background process running after it exits", () => {
    expect(attempt("background").ok).toBe(true);
    expect(runningWithArg(marker)).toBe(false);
  });
});
