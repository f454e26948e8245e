import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitWorktree, pushCommit } from "../../../src/git/commit.js";
import { git } from "../../../src/git/git.js";
import { createWorktree, syncMirror } from "../../../src/git/workspace.js";
import { type GitHttpServer, startGitHttpServer } from "../../fixtures/git-http.js";
import { cloneBare, commitFiles, initRepo, makeTempDir, removeDir, git as testGit } from "../../fixtures/git-repo.js";

const TOKEN = "ghs_credentialTestToken0123456789abcdefXYZ";

/** Every process whose environment or arguments hold `needle`, and the git processes seen, in one /proc sweep. */
function sweep(needle: string): { holders: string[]; gits: string[] } {
  const holders: string[] = [];
  const gits: string[] = [];
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
      if (cmdline.includes(needle) || environ.includes(needle)) holders.push(`${pid} ${cmdline.replace(/\0/g, " ")}`);
      if (/^git(-remote-http)?\0|\/git(-remote-http)?\0/.test(cmdline)) gits.push(cmdline.split("\0").slice(0, 3).join(" "));
    } catch {
      // the process ended between readdir and read
    }
  }
  return { holders, gits };
}

/**
 * Issue 11 / issue 8: the installation token reaches git only through the one-shot credential helper
 * over an inherited pipe, for the clone URL's host; against a real smart-HTTP server that requires it.
 */
describe("git credentials over smart HTTP", () => {
  const root = makeTempDir("backlog-bot-git-http-");
  const dataDir = path.join(root, "data");
  const served = path.join(root, "served");
  let server: GitHttpServer;
  let cloneUrl: string;

  beforeAll(async () => {
    const work = initRepo();
    commitFiles(work, { "hello.txt": "hello world\n" });
    const bare = cloneBare(work);
    testGit(root, ["clone", "--bare", "--quiet", bare, path.join(served, "r.git")]);
    server = await startGitHttpServer(served, TOKEN, { delayMs: 400 });
    cloneUrl = `${server.url}/r.git`;
  });
  afterAll(async () => {
    await server.close();
    removeDir(root);
  });

  it("without the token the server refuses the fetch", async () => {
    await expect(syncMirror({ dataDir: path.join(root, "no-token"), fullName: "o/r", cloneUrl, defaultBranch: "main" })).rejects.toThrow(
      /git fetch failed/,
    );
  });

  it("fetches with a token minted on demand, and no token lands in the mirror's config or a URL", async () => {
    let minted = 0;
    const mirror = await syncMirror({
      dataDir,
      fullName: "o/r",
      cloneUrl,
      defaultBranch: "main",
      token: async () => {
        minted++;
        return TOKEN;
      },
    });
    expect(minted).toBe(1);
    expect(server.requests.some((r) => r.authorized && r.path.endsWith("/info/refs"))).toBe(true);
    expect(readFileSync(path.join(mirror, "config"), "utf8")).not.toContain(TOKEN);
    expect(readFileSync(path.join(mirror, "FETCH_HEAD"), "utf8")).not.toContain(TOKEN);
  });

  it("during a push no process has the token in its environment or arguments", async () => {
    const mirror = await syncMirror({ dataDir, fullName: "o/r", cloneUrl, defaultBranch: "main", token: TOKEN });
    const { worktree, baseCommit } = await createWorktree(mirror, dataDir, 1, "backlog-bot/t1", "main", 1);
    writeFileSync(path.join(worktree, "hello.txt"), "hello agent\n");
    const { commit } = await commitWorktree(mirror, worktree, baseCommit, "Greet the agent", { name: "bot", email: "bot@example.com" });

    const holders = new Set<string>();
    const gits = new Set<string>();
    let pushing = true;
    const push = pushCommit(mirror, cloneUrl, commit, "backlog-bot/t1", async () => TOKEN).finally(() => {
      pushing = false;
    });
    while (pushing) {
      const seen = sweep(TOKEN);
      for (const h of seen.holders) holders.add(h);
      for (const g of seen.gits) gits.add(g);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await push;
    expect([...gits].some((g) => g.includes("remote-http"))).toBe(true); // the sweep did watch the push
    expect([...holders]).toEqual([]);
    expect(testGit(served, ["--git-dir", "r.git", "rev-parse", "refs/heads/backlog-bot/t1"]).trim()).toBe(commit);
  });

  it("the helper answers for the clone URL's host only", async () => {
    const mirror = await syncMirror({ dataDir, fullName: "o/r", cloneUrl, defaultBranch: "main", token: TOKEN });
    const otherHost = cloneUrl.replace("127.0.0.1", "localhost");
    const before = server.requests.length;
    await expect(git(["ls-remote", otherHost], { cwd: mirror, token: TOKEN, remoteUrl: cloneUrl })).rejects.toThrow(/git ls-remote failed/);
    expect(server.requests.slice(before).every((r) => !r.authorized)).toBe(true);
  });
});
