import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitWorktree, pushCommit } from "../../../src/git/commit.js";
import { createWorktree, pendingLocks, STALE_LOCK_MS, syncMirror, withLock } from "../../../src/git/workspace.js";
import { cloneBare, commitFiles, initRepo, makeTempDir, removeDir, git as testGit } from "../../fixtures/git-repo.js";

describe("withLock", () => {
  it("a failing operation rejects its own caller only, leaves no unhandled rejection and cleans the map", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const order: string[] = [];
      const failing = withLock("m", async () => {
        order.push("first");
        throw new Error("fetch failed");
      });
      const next = withLock("m", async () => {
        order.push("second");
        return 2;
      });
      await expect(failing).rejects.toThrow("fetch failed");
      await expect(next).resolves.toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 20)); // let Node report any unhandled rejection
      expect(order).toEqual(["first", "second"]);
      expect(unhandled).toEqual([]);
      expect(pendingLocks()).toBe(0);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

describe("worktrees and the bot's own commit", () => {
  const root = makeTempDir("backlog-bot-workspace-");
  const dataDir = path.join(root, "data");
  let remote: string;
  let mirror: string;
  beforeAll(async () => {
    const work = initRepo();
    commitFiles(work, { "hello.txt": "hello world\n" });
    remote = cloneBare(work);
    mirror = await syncMirror({ dataDir, fullName: "o/r", cloneUrl: remote, defaultBranch: "main" });
  });
  afterAll(() => removeDir(root));

  it("each attempt gets a fresh worktree path; the earlier attempt's is removed", async () => {
    const first = await createWorktree(mirror, dataDir, 7, "backlog-bot/t7", "main", 1);
    writeFileSync(path.join(first.worktree, "hello.txt"), "dead attempt's edit\n");
    const second = await createWorktree(mirror, dataDir, 7, "backlog-bot/t7", "main", 2);
    expect(first.worktree).toBe(path.join(dataDir, "worktrees", "task-7-1"));
    expect(second.worktree).toBe(path.join(dataDir, "worktrees", "task-7-2"));
    expect(existsSync(first.worktree)).toBe(false);
    expect(readFileSync(path.join(second.worktree, "hello.txt"), "utf8")).toBe("hello world\n");
  });

  it("commits from the mirror's git dir: a rewritten .git file in the worktree redirects nothing", async () => {
    const { worktree, baseCommit } = await createWorktree(mirror, dataDir, 8, "backlog-bot/t8", "main", 1);
    writeFileSync(path.join(worktree, "hello.txt"), "hello agent\n");
    writeFileSync(path.join(worktree, "new.txt"), "new file\n");
    // What an unconfined agent would do: point the worktree's git at a repository of its own.
    const evil = initRepo();
    writeFileSync(path.join(worktree, ".git"), `gitdir: ${path.join(evil, ".git")}\n`);
    const { commit, diffStat } = await commitWorktree(mirror, worktree, baseCommit, "Greet the agent", {
      name: "bot[bot]",
      email: "1+bot[bot]@users.noreply.github.com",
    });
    expect(diffStat).toMatch(/2 files changed/);
    await pushCommit(mirror, remote, commit, "backlog-bot/t8");
    expect(testGit(remote, ["show", "refs/heads/backlog-bot/t8:hello.txt"])).toBe("hello agent\n");
    expect(testGit(remote, ["log", "-1", "--format=%an %P", "refs/heads/backlog-bot/t8"]).trim()).toBe(`bot[bot] ${baseCommit}`);
    expect(testGit(evil, ["rev-list", "--all"]).trim()).toBe(""); // nothing went to the agent's repository
  });
});

describe("locks a killed git left behind", () => {
  it("are removed once stale, so the mirror fetches and branches again; a fresh one is left to its owner", async () => {
    const root = makeTempDir("backlog-bot-stale-locks-");
    try {
      const dataDir = path.join(root, "data");
      const work = initRepo();
      commitFiles(work, { "a.txt": "one\n" });
      const remote = cloneBare(work);
      const options = { dataDir, fullName: "o/locks", cloneUrl: remote, defaultBranch: "main" };
      const mirror = await syncMirror(options);
      commitFiles(work, { "a.txt": "two\n" });
      testGit(work, ["push", "-q", remote, "HEAD:main"]);
      // A fetch and a branch killed mid-way (SIGKILL at shutdown, the OOM killer): their locks stay.
      const refLock = path.join(mirror, "refs", "remotes", "origin", "main.lock");
      const branchLock = path.join(mirror, "refs", "heads", "backlog-bot", "t9.lock");
      mkdirSync(path.dirname(branchLock), { recursive: true });
      writeFileSync(refLock, "");
      writeFileSync(branchLock, "");
      // A lock taken a moment ago may belong to a git still running (another process): kept, and the fetch says why it failed.
      await expect(syncMirror(options)).rejects.toThrow(/Another git process/);
      const old = new Date(Date.now() - 2 * STALE_LOCK_MS);
      for (const lock of [refLock, branchLock]) utimesSync(lock, old, old);
      await syncMirror(options);
      expect(testGit(mirror, ["rev-parse", "refs/remotes/origin/main"]).trim()).toBe(testGit(work, ["rev-parse", "HEAD"]).trim());
      const { worktree } = await createWorktree(mirror, dataDir, 9, "backlog-bot/t9", "main", 1);
      expect(readFileSync(path.join(worktree, "a.txt"), "utf8")).toBe("two\n");
      expect([existsSync(refLock), existsSync(branchLock)]).toEqual([false, false]);
    } finally {
      removeDir(root);
    }
  });
});
