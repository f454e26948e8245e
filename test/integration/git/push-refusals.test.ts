import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pushFailure, TaskFailure } from "../../../src/executor/run-task.js";
import { pushCommit } from "../../../src/git/commit.js";
import { syncMirror } from "../../../src/git/workspace.js";
import { cloneBare, commitFiles, git, initRepo, makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function setup() {
  const work = initRepo();
  dirs.push(work);
  commitFiles(work, { "a.txt": "one\n" });
  const remote = cloneBare(work);
  dirs.push(path.dirname(remote));
  const dataDir = makeTempDir();
  dirs.push(dataDir);
  const mirror = await syncMirror({ dataDir, fullName: "o/r", cloneUrl: remote, defaultBranch: "main" });
  const head = git(mirror, ["rev-parse", "refs/remotes/origin/main"]).trim();
  return { work, remote, mirror, head };
}

const failureOf = async (push: Promise<void>) => {
  const error = await push.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return pushFailure(error, "backlog-bot/issue-1-x");
};

describe("a refused push, as the task reports it", () => {
  it("gives GitHub's own reason when the remote refuses it (a hook, a ruleset, a file too large), not 'the branch changed'", async () => {
    const { remote, mirror, head } = await setup();
    const hook = path.join(remote, "hooks", "pre-receive");
    writeFileSync(
      hook,
      "#!/bin/sh\necho 'GH001: Large files detected. big.bin is 120.00 MB; this exceeds the file size limit of 100.00 MB' >&2\nexit 1\n",
    );
    chmodSync(hook, 0o755);
    const failure = await failureOf(pushCommit(mirror, remote, head, "backlog-bot/issue-1-x", undefined, null));
    expect(failure).toBeInstanceOf(TaskFailure);
    expect((failure as Error).message).toContain("GitHub refused the push of `backlog-bot/issue-1-x`");
    expect((failure as Error).message).toContain("GH001: Large files detected");
    expect((failure as Error).message).not.toContain("changed on GitHub");
  });

  it("says the branch changed when someone else pushed to it since (the lease)", async () => {
    const { work, remote, mirror, head } = await setup();
    git(work, ["push", "-q", remote, "HEAD:refs/heads/backlog-bot/issue-1-x"]);
    commitFiles(work, { "a.txt": "someone else's\n" });
    git(work, ["push", "-q", remote, "HEAD:refs/heads/backlog-bot/issue-1-x"]);
    const failure = await failureOf(pushCommit(mirror, remote, head, "backlog-bot/issue-1-x", undefined, head));
    expect(failure).toBeInstanceOf(TaskFailure);
    expect((failure as Error).message).toContain("changed on GitHub since backlog-bot last pushed to it");
  });

  it("leaves any other failure (no such remote) as it is, for the job to retry", async () => {
    const { mirror, head } = await setup();
    const failure = await failureOf(pushCommit(mirror, path.join(mirror, "gone.git"), head, "b", undefined, null));
    expect(failure).not.toBeInstanceOf(TaskFailure);
  });
});
