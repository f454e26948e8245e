/**
 * A repository nested in an agent's worktree (a submodule's folder, or one the agent made) carries
 * its own `.git/config`, written inside the sandbox. None of the bot's git commands on the worktree
 * may look inside it: git would run `git status` there, and that repository's filter driver on the
 * host. Real git throughout; the agent's actions are played with git commands in the worktree (the
 * host-side execution needs no sandbox to show).
 */
import { existsSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { changedFiles } from "../../../src/executor/guard.js";
import { restoreTree, snapshotTree, treeChanges } from "../../../src/executor/verify-tree.js";
import { commitWorktree } from "../../../src/git/commit.js";
import { unquoteGitPath } from "../../../src/git/stage.js";
import { createWorktree, syncMirror } from "../../../src/git/workspace.js";
import { cloneBare, commitFiles, git, initRepo, makeTempDir, removeDir, writeFiles } from "../../fixtures/git-repo.js";

const root = makeTempDir("backlog-bot-nested-");
const marker = path.join(root, "PWNED");
const dirs: string[] = [root];
/** The filter a nested repository's config names: proof that git ran it, then a pass-through. */
const filter = `sh -c 'touch ${marker}; cat'`;
/** A submodule path git has to quote (`core.quotePath`): a space, a quote and a non-ASCII letter. */
const oddSub = 'lib/odd "é" sub';

let baseCommit: string;
let worktree: string;
let mirror: string;
let subCommit: string;

/**
 * Plays what an agent (or the repository's tests) can do inside the sandbox: check a submodule out
 * at the recorded commit, give it a filter driver, and touch its file so `git status` there must
 * run the filter (same size, newer mtime).
 */
function armRepository(dir: string): void {
  git(dir, ["config", "filter.x.clean", filter]);
  writeFileSync(path.join(dir, "f.txt"), "HELLO\n");
  const later = new Date(Date.now() + 60_000);
  utimesSync(path.join(dir, "f.txt"), later, later);
}

beforeAll(async () => {
  const subUpstream = initRepo();
  dirs.push(subUpstream);
  subCommit = commitFiles(subUpstream, { ".gitattributes": "* filter=x\n", "f.txt": "hello\n" });

  const upstream = initRepo();
  dirs.push(upstream);
  // `ignore = none` asks status to look inside; the bot's own option must win over the repository's setting.
  writeFiles(upstream, {
    "README.md": "readme\n",
    ".gitmodules": `[submodule "sub"]\n\tpath = sub\n\turl = https://example.com/sub.git\n\tignore = none\n`,
  });
  git(upstream, ["add", "."]);
  git(upstream, ["update-index", "--add", "--cacheinfo", `160000,${subCommit},sub`]);
  git(upstream, ["update-index", "--add", "--cacheinfo", `160000,${subCommit},${oddSub}`]);
  git(upstream, ["commit", "-q", "-m", "with submodules"]);
  const remote = cloneBare(upstream);
  dirs.push(path.dirname(remote));

  const dataDir = path.join(root, "data");
  mirror = await syncMirror({ dataDir, fullName: "o/r", cloneUrl: remote, defaultBranch: "main" });
  ({ worktree, baseCommit } = await createWorktree(mirror, dataDir, 1, "backlog-bot/t1", "main", 1));

  // The agent's work: a real edit and a new file, plus the nested repositories.
  writeFiles(worktree, { "README.md": "readme, edited\n", "new.txt": "new\n" });
  for (const sub of ["sub", oddSub]) {
    rmSync(path.join(worktree, sub), { recursive: true, force: true });
    git(worktree, ["clone", "-q", subUpstream, sub]);
    armRepository(path.join(worktree, sub));
  }
  // A repository of its own in a new folder, at a commit of its own.
  const nest = path.join(worktree, "nest");
  git(worktree, ["init", "-q", "nest"]);
  writeFiles(nest, { ".gitattributes": "* filter=x\n", "f.txt": "hello\n" });
  git(nest, ["add", "."]);
  git(nest, ["commit", "-q", "-m", "nested"]);
  armRepository(nest);
});
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});
beforeEach(() => rmSync(marker, { force: true }));

describe("git never looks inside a nested repository of a worktree", () => {
  it("the setup arms the trap: git's own status in the worktree runs the submodule's filter", () => {
    git(worktree, ["status", "--porcelain"]);
    expect(existsSync(marker)).toBe(true);
  });

  it("changedFiles runs no nested config and reports the agent's files only, never a submodule or nested repository", async () => {
    const files = await changedFiles(worktree);
    expect(existsSync(marker)).toBe(false);
    expect(files).toEqual([
      { status: "M", path: "README.md" },
      { status: "??", path: "new.txt" },
    ]);
  });

  it("a submodule whose HEAD the agent moved is still not reported, and still not looked inside", async () => {
    const sub = path.join(worktree, "sub");
    git(sub, ["commit", "-q", "--allow-empty", "-m", "moved"]);
    rmSync(marker, { force: true }); // that commit ran the filter itself, as the agent's git would in the sandbox
    try {
      expect((await changedFiles(worktree)).map((f) => f.path)).toEqual(["README.md", "new.txt"]);
      expect(existsSync(marker)).toBe(false);
    } finally {
      git(sub, ["reset", "-q", "--soft", subCommit]);
    }
  });

  it("verify's snapshot and restore run no nested config; the snapshot keeps the base's submodules and leaves the nested repository out", async () => {
    const tree = await snapshotTree(worktree);
    expect(existsSync(marker)).toBe(false);
    expect((await treeChanges(worktree, baseCommit, tree)).map((c) => `${c.status} ${c.path}`)).toEqual(["M README.md", "A new.txt"]);
    writeFiles(worktree, { "report.xml": "<testsuites/>" }); // what a test run leaves
    await restoreTree(worktree, tree);
    expect(existsSync(path.join(worktree, "report.xml"))).toBe(false);
    expect(existsSync(marker)).toBe(false);
  });

  it("the bot's commit runs no nested config: submodules stay at the base's commit, the nested repository is left out", async () => {
    const identity = { name: "bot", email: "bot@example.com" };
    const { commit } = await commitWorktree(mirror, worktree, baseCommit, "change", identity);
    expect(existsSync(marker)).toBe(false);
    const listing = git(mirror, ["-c", "core.quotePath=false", "ls-tree", "-r", commit]);
    expect(listing).toContain(`160000 commit ${subCommit}\tsub\n`);
    expect(listing).toContain(`160000 commit ${subCommit}\t"${oddSub.replace(/"/g, '\\"')}"\n`);
    expect(listing).not.toContain("nest");
    expect(git(mirror, ["diff-tree", "-r", "--name-status", baseCommit, commit])).toBe("M\tREADME.md\nA\tnew.txt\n");
  });
});

describe("unquoteGitPath", () => {
  it("reads git's C-style quoting back to the path's bytes", () => {
    expect(unquoteGitPath("plain/path").toString()).toBe("plain/path");
    expect(unquoteGitPath('"caf\\303\\251 \\"q\\" \\\\ \\t\\n"')).toEqual(Buffer.from('café "q" \\ \t\n'));
    expect(unquoteGitPath('"\\377x"')).toEqual(Buffer.from([0xff, 0x78])); // not UTF-8, still exact
    expect(() => unquoteGitPath('"open')).toThrow(/unbalanced/);
    expect(() => unquoteGitPath('"\\q"')).toThrow(/unknown escape/);
  });
});
