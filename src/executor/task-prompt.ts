import { authorOfLine } from "../scanners/blame.js";
import type { LineAuthor } from "../scanners/blame-history.js";
import { openGitSource } from "../scanners/git-source.js";
import type { FindingSignals } from "../scanners/types.js";
import type { PromptSources } from "./agents/prompt/index.js";
import type { TaskRun } from "./run-task.js";

/**
 * Where a task's prompt comes from (issue 9, "Work from any finding"): a task on an issue, or on a
 * stale or labelled-issue finding, is the issue as it was when the person asked; a TODO finding is
 * its comment, the code around it and its line's author and date; a failing check on the default
 * branch is its name, commit, annotations and log excerpt. The finding is read from the store as it
 * is now: its text is code and CI output, not something a non-writer can edit on GitHub.
 */
export async function promptSourcesFor(run: TaskRun): Promise<PromptSources> {
  const { task, repo, github, deps } = run;
  const base = {
    octokit: github.octokit,
    owner: github.owner,
    repo: github.name,
    repository: repo.full_name,
    instructions: task.instructions,
    worktree: run.worktree as string,
  };
  const finding =
    task.finding_id === null
      ? undefined
      : await deps.db.selectFrom("findings").selectAll().where("id", "=", task.finding_id).executeTakeFirst();
  const signals = parseSignals(finding?.signals);
  if (finding?.kind === "todo" && finding.path && finding.line) {
    // The scan stores only a bound for lines older than its horizon (issue 14): the prompt names the real author and date.
    const exact = signals.authoredBefore ? await lineAuthor(run.worktree as string, finding.path, finding.line) : undefined;
    return {
      ...base,
      kind: "todo",
      finding: {
        path: finding.path,
        line: finding.line,
        title: finding.title,
        author: exact?.author ?? signals.author ?? null,
        authoredAt: exact?.authoredAt ?? (signals.authoredBefore ? null : (signals.authoredAt ?? null)),
      },
    };
  }
  if (finding?.kind === "failing_check") {
    return {
      ...base,
      kind: "failing_check",
      check: {
        name: signals.checkName ?? finding.title,
        headSha: signals.headSha ?? "",
        conclusion: signals.conclusion ?? null,
        url: finding.url,
        ...(signals.annotations && { annotations: signals.annotations }),
        ...(signals.logExcerpt && { logExcerpt: signals.logExcerpt }),
      },
    };
  }
  return {
    ...base,
    kind: "issue",
    issueNumber: task.issue_number ?? finding?.issue_number ?? null,
    title: task.title,
    body: finding?.body ?? null,
    triggeredAt: task.requested_at ?? task.created_at,
    triggerCommentId: task.trigger_comment_id,
  };
}

function parseSignals(text: string | undefined): FindingSignals {
  if (!text) return {};
  try {
    return JSON.parse(text) as FindingSignals;
  } catch {
    return {};
  }
}

/** One `git blame` of a line in the task's worktree (its base commit); undefined when git cannot say (file changed, partial clone). */
async function lineAuthor(worktree: string, path: string, line: number): Promise<LineAuthor | undefined> {
  try {
    return await authorOfLine(await openGitSource(worktree, "HEAD"), path, line);
  } catch {
    return undefined;
  }
}
