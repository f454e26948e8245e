import { rm } from "node:fs/promises";
import path from "node:path";
import { type GitOptions, git } from "./git.js";
import { addAllFiles } from "./stage.js";

/** Who the bot commits as. */
export interface CommitIdentity {
  name: string;
  email: string;
}

/**
 * Commits everything in `worktree` (untracked files included, ignored ones not) on top of
 * `baseCommit`, except submodules, which keep the base's commit, and nested repositories, which are
 * left out (git never looks inside either: see stage.ts). Uses only what the bot controls: the
 * mirror's git directory (`--git-dir`), a fresh index file of its own and the worktree's files as
 * the work tree. The worktree's `.git`
 * file, its per-worktree admin directory, its HEAD and any commit the agent made are never read,
 * so an agent cannot redirect the bot's commit by rewriting them.
 * @returns the new commit's id and `git diff --stat` against the base.
 * @throws CommandError when git fails.
 */
export async function commitWorktree(
  mirror: string,
  worktree: string,
  baseCommit: string,
  message: string,
  identity: CommitIdentity,
): Promise<{ commit: string; diffStat: string }> {
  const index = path.join(mirror, `backlog-bot-index-${path.basename(worktree)}`);
  const options: GitOptions = { cwd: mirror, env: { GIT_INDEX_FILE: index } };
  const pathspecs = `${index}.pathspecs`;
  const tree = ["--git-dir", mirror, "--work-tree", worktree];
  try {
    await rm(index, { force: true });
    await git([...tree, "read-tree", baseCommit], options);
    // Never `git add` itself: it would look inside submodules (stage.ts). Their pointers stay the base's.
    await addAllFiles(tree, options, pathspecs);
    const { stdout: treeId } = await git([...tree, "write-tree"], options);
    const { stdout: commitId } = await git(["--git-dir", mirror, "commit-tree", treeId.trim(), "-p", baseCommit, "-m", message], {
      ...options,
      env: {
        GIT_INDEX_FILE: index,
        GIT_AUTHOR_NAME: identity.name,
        GIT_AUTHOR_EMAIL: identity.email,
        GIT_COMMITTER_NAME: identity.name,
        GIT_COMMITTER_EMAIL: identity.email,
      },
    });
    const commit = commitId.trim();
    const { stdout: diffStat } = await git(["--git-dir", mirror, "diff", "--stat", baseCommit, commit], options);
    return { commit, diffStat };
  } finally {
    await rm(index, { force: true });
    await rm(pathspecs, { force: true });
  }
}

/**
 * Pushes `commit` to `refs/heads/<branch>` of `remoteUrl` from the mirror's git directory (not the
 * worktree's), with the token handed to git's one-shot credential helper for that URL's host.
 * @param token - a token, or a function that mints one right before the push.
 * @param lease - the commit the bot last pushed to the branch (`--force-with-lease`), or null to
 *   require that the branch does not exist yet; omitted: force.
 * @throws CommandError when the push is refused or fails.
 */
export async function pushCommit(
  mirror: string,
  remoteUrl: string,
  commit: string,
  branch: string,
  token?: string | (() => Promise<string>),
  lease?: string | null,
): Promise<void> {
  const ref = `refs/heads/${branch}`;
  const force = lease === undefined ? ["--force"] : [`--force-with-lease=${ref}:${lease ?? ""}`];
  await git(["--git-dir", mirror, "push", ...force, "--no-verify", "--quiet", remoteUrl, `${commit}:${ref}`], {
    cwd: mirror,
    ...(token !== undefined && /^https?:/.test(remoteUrl) && { token, remoteUrl }),
  });
}
