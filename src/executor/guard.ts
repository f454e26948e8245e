import { CONFIG_PATH } from "../config/parse.js";
import { git } from "../git/git.js";

/** One changed path, from `git status --porcelain=v1 -z`. */
export interface ChangedFile {
  status: string;
  path: string;
}

/**
 * What the agent changed in the worktree, untracked files included (ignored files excluded): what
 * the bot's commit (src/git/commit.ts) will hold. Submodules are never reported, whatever their
 * folders hold, and neither is a nested repository the agent made (`?? dir/`): the commit keeps a
 * submodule at the base's commit and leaves nested repositories out, because git must not look
 * inside them (`--ignore-submodules=all`; see src/git/stage.ts).
 * @throws CommandError when git fails.
 */
export async function changedFiles(worktree: string): Promise<ChangedFile[]> {
  const { stdout } = await git(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignore-submodules=all"], {
    cwd: worktree,
  });
  const entries = stdout.split("\0").filter(Boolean);
  const files: ChangedFile[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] ?? "";
    const status = entry.slice(0, 2);
    const file = entry.slice(3);
    if (status === "??" && file.endsWith("/")) continue; // with --untracked-files=all only a nested repository shows as a folder
    files.push({ status: status.trim(), path: file });
    if (status.startsWith("R") || status.startsWith("C")) i++; // the next entry is the rename's source
  }
  return files;
}

/**
 * Paths an agent's change may not touch, whatever the issue asked:
 * - `.github/workflows` (the folder, or a file or link of that name): a pushed workflow runs with
 *   the repository's secrets on GitHub's runners, and an installation token without the
 *   `workflows` permission cannot push one anyway
 *   (https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps);
 * - backlog-bot's own config (`.github/backlog-bot.yml`): an issue's text could otherwise have the
 *   agent raise the bot's limits, turn autopilot on or widen `allowedBots` once merged;
 * - `CODEOWNERS` (where GitHub reads it: the root, `.github/`, `docs/`): who must review a change;
 * - `.gitmodules`: a submodule's URL, which CI then checks out (the bot never commits submodules).
 */
const FORBIDDEN = [
  /^\.github\/workflows(\/|$)/,
  new RegExp(`^${CONFIG_PATH.replace(/\./g, "\\.")}$`),
  /^(\.github\/|docs\/)?CODEOWNERS$/,
  /^\.gitmodules$/,
];

/** The diff policy: returns why the change must not be pushed, or null when it may (`FORBIDDEN`). */
export function checkDiffPolicy(files: readonly ChangedFile[]): string | null {
  const forbidden = files.filter((f) => FORBIDDEN.some((re) => re.test(f.path))).map((f) => f.path);
  if (forbidden.length > 0) return `the agent changed files backlog-bot never pushes: ${forbidden.join(", ")}`;
  return null;
}
