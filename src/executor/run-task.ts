import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import type { Octokit } from "@octokit/rest";
import type { Settings } from "../config/env.js";
import type { GitHubAccess } from "../github/access.js";
import type { Db } from "../store/db.js";
import { getRepositoryById } from "../store/repositories.js";
import { finishRun, startRun } from "../store/runs.js";
import type { Repository, Task } from "../store/schema.js";
import { transitionTask } from "../store/tasks.js";
import { tailLines } from "../util/exec.js";
import { type Logger, redactSecrets } from "../util/logger.js";
import { preparePrompt } from "./agents/prompt/index.js";
import { type AgentRegistry, resolveAgent } from "./agents/registry.js";
import type { Agent, AgentRunResult } from "./agents/types.js";
import { git } from "../git/git.js";
import { changedFiles, checkDiffPolicy } from "./guard.js";
import { openDraftPullRequest } from "./pull-request.js";
import { addWorktree, protectMirrorConfig, removeWorktree, syncMirror } from "../git/workspace.js";

/** What running a task needs. */
export interface ExecutorDeps {
  db: Db;
  settings: Settings;
  agents: AgentRegistry;
  github: GitHubAccess;
  log: Logger;
}

/** `backlog-bot/issue-<number>-<slug>` (or `task-<id>` without an issue); the slug is ASCII, at most 40 characters. */
export function branchName(task: Pick<Task, "id" | "issue_number" | "title">): string {
  const slug = task.title
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  const head = task.issue_number !== null ? `issue-${task.issue_number}` : `task-${task.id}`;
  return `backlog-bot/${head}${slug ? `-${slug}` : ""}`;
}

/** A task failure whose message is for the issue thread. */
class TaskFailure extends Error {}

/**
 * The pipeline for one claimed (`running`) task: mirror -> worktree -> prompt -> agent (with
 * fallbacks) -> diff policy -> commit -> push -> draft PR -> comment. Ends the task in exactly one
 * of `pr_open`, `no_changes` or `failed`, and says so on the issue. When `signal` aborts (shutdown)
 * the task goes back to `queued` instead, to be picked up again.
 */
export async function runTask(deps: ExecutorDeps, task: Task, signal: AbortSignal): Promise<void> {
  const log = deps.log.child({ taskId: task.id });
  const repo = await getRepositoryById(deps.db, task.repository_id);
  if (!repo) {
    await transitionTask(deps.db, task.id, ["running"], "failed", { error: "repository no longer installed" });
    return;
  }
  const [owner = "", name = ""] = repo.full_name.split("/");
  const octokit = await deps.github.octokit(repo.installation_id);
  const comment = async (body: string) => {
    if (task.issue_number !== null) {
      await octokit.rest.issues.createComment({ owner, repo: name, issue_number: task.issue_number, body });
    }
  };
  const branch = branchName(task);
  let mirror: string | undefined;
  let worktree: string | undefined;
  try {
    const outcome = await execute(deps, task, repo, { owner, name, octokit, branch, signal, log }, (m, w) => {
      mirror = m;
      worktree = w;
    });
    if (outcome.state === "no_changes") {
      await transitionTask(deps.db, task.id, ["running"], "no_changes", { branch });
      await comment(
        `Task #${task.id}: \`${outcome.agent}\` finished without changing anything, so there is no pull request.${summaryBlock(outcome.summary)}`,
      );
    } else {
      await transitionTask(deps.db, task.id, ["running"], "pr_open", { branch, pr_number: outcome.pr.number, pr_url: outcome.pr.url });
      await comment(`Task #${task.id}: draft pull request ${outcome.pr.url} is ready for review.`);
    }
    log.info({ state: outcome.state }, "task finished");
  } catch (error) {
    if (signal.aborted) {
      await transitionTask(deps.db, task.id, ["running"], "queued");
      log.warn("task interrupted by shutdown; requeued");
      return;
    }
    const message = redactSecrets(error instanceof Error ? error.message : String(error));
    log.error({ err: error }, "task failed");
    await transitionTask(deps.db, task.id, ["running"], "failed", { error: message.slice(0, 4000) });
    await comment(`Task #${task.id} failed: ${fence(message)}`).catch((e) => log.warn({ err: e }, "could not comment on the issue"));
  } finally {
    if (mirror && worktree) await removeWorktree(mirror, worktree, branch);
  }
}

type Outcome = { state: "no_changes"; agent: string; summary: string } | { state: "pr_open"; pr: { number: number; url: string } };

interface Ctx {
  owner: string;
  name: string;
  octokit: Octokit;
  branch: string;
  signal: AbortSignal;
  log: Logger;
}

async function execute(
  deps: ExecutorDeps,
  task: Task,
  repo: Repository,
  ctx: Ctx,
  onWorkspace: (mirror: string, worktree: string) => void,
): Promise<Outcome> {
  const { dataDir } = deps.settings;
  const choice = resolveAgent(deps.agents, task.agent);
  if ("error" in choice) throw new TaskFailure(choice.error);
  if (!repo.clone_url) throw new TaskFailure(`no clone URL is known for ${repo.full_name}`);
  const needsToken = /^https?:/.test(repo.clone_url);
  const token = needsToken ? await deps.github.token(repo.installation_id) : undefined;

  const mirror = await syncMirror({
    dataDir,
    fullName: repo.full_name,
    cloneUrl: repo.clone_url,
    defaultBranch: repo.default_branch,
    ...(token && { token }),
  });
  const worktree = await addWorktree(mirror, dataDir, task.id, ctx.branch, repo.default_branch);
  onWorkspace(mirror, worktree);
  const prompt = await preparePrompt({
    octokit: ctx.octokit,
    owner: ctx.owner,
    repo: ctx.name,
    repository: repo.full_name,
    issueNumber: task.issue_number,
    title: task.title,
    instructions: task.instructions,
    worktree,
  });

  const restoreConfig = await protectMirrorConfig(mirror, worktree);
  const notes: string[] = [];
  let result: AgentRunResult | undefined;
  let agentName = "";
  try {
    for (const [index, agent] of choice.agents.entries()) {
      agentName = agent.name;
      result = await runAgent(deps, task, agent, prompt, worktree, ctx.signal);
      const next = choice.agents[index + 1];
      if (result.outcome === "finished" || !result.infrastructureFailure || !next) break;
      notes.push(`\`${agent.name}\` could not run (${firstLine(result.error)}); \`${next.name}\` was tried instead.`);
      ctx.log.warn({ agent: agent.name, next: next.name, error: result.error }, "agent unavailable; trying the next one");
    }
  } finally {
    await restoreConfig();
  }
  if (ctx.signal.aborted) throw new Error("shutdown");
  if (result?.outcome !== "finished") {
    const why = result?.outcome === "timeout" ? "timed out" : "failed";
    throw new TaskFailure(`\`${agentName}\` ${why}: ${result?.error ?? "no result"}${notes.length ? `\n${notes.join("\n")}` : ""}`);
  }

  const files = await changedFiles(worktree);
  if (files.length === 0) return { state: "no_changes", agent: agentName, summary: result.summary };
  const refusal = checkDiffPolicy(files);
  if (refusal) throw new TaskFailure(refusal);

  const identity = await deps.github.botIdentity(repo.installation_id);
  await git(["add", "--all"], { cwd: worktree });
  const subject = task.issue_number !== null ? `${task.title} (#${task.issue_number})` : task.title;
  const message = `${subject.slice(0, 200)}\n\nMade by backlog-bot task #${task.id} with ${agentName}.${task.issue_number !== null ? `\n\nFixes #${task.issue_number}` : ""}`;
  await git(["-c", `user.name=${identity.name}`, "-c", `user.email=${identity.email}`, "commit", "--no-verify", "--quiet", "-m", message], {
    cwd: worktree,
  });
  const { stdout: diffStat } = await git(["diff", "--stat", "HEAD~1", "HEAD"], { cwd: worktree });
  // Push to the URL we stored, never to a remote name whose URL the worktree could have changed.
  await git(["push", "--force", "--no-verify", "--quiet", repo.clone_url, `HEAD:refs/heads/${ctx.branch}`], {
    cwd: worktree,
    ...(token && { token }),
  });
  const pr = await openDraftPullRequest(ctx.octokit, {
    owner: ctx.owner,
    repo: ctx.name,
    branch: ctx.branch,
    base: repo.default_branch,
    taskId: task.id,
    issueNumber: task.issue_number,
    title: task.title,
    requestedBy: task.requested_by,
    instructions: task.instructions,
    agent: agentName,
    summary: result.summary,
    notes,
    figures: figures(result),
    diffStat,
  });
  return { state: "pr_open", pr };
}

async function runAgent(
  deps: ExecutorDeps,
  task: Task,
  agent: Agent,
  prompt: string,
  worktree: string,
  signal: AbortSignal,
): Promise<AgentRunResult> {
  const { dataDir } = deps.settings;
  const runId = await startRun(deps.db, task.id, agent.name);
  await mkdir(path.join(dataDir, "homes"), { recursive: true });
  await mkdir(path.join(dataDir, "transcripts"), { recursive: true });
  const home = await mkdtemp(path.join(dataDir, "homes", `task-${task.id}-run-${runId}-`));
  const transcriptPath = path.join(dataDir, "transcripts", `task-${task.id}-run-${runId}.log`);
  try {
    const result = await agent.run({
      prompt,
      worktree,
      home,
      transcriptPath,
      timeoutMs: deps.settings.agentTimeoutMs,
      maxOutputBytes: deps.settings.maxOutputBytes,
      signal,
    });
    const files = result.outcome === "finished" ? await changedFiles(worktree) : [];
    await finishRun(deps.db, runId, {
      exit_code: result.exitCode,
      outcome: result.outcome === "finished" ? (files.length > 0 ? "changes" : "no_changes") : result.outcome,
      summary: redactSecrets(result.summary).slice(0, 20_000),
      turns: result.turns,
      input_tokens: result.inputTokens,
      output_tokens: result.outputTokens,
      cost_usd: result.costUsd,
      verification: "skipped",
      diff_stat: files.length > 0 ? `${files.length} file(s)` : null,
      transcript_path: result.transcriptPath,
      error: result.error ? redactSecrets(result.error).slice(0, 4000) : null,
    });
    return result;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

function figures(result: AgentRunResult): string | null {
  const parts = [
    result.turns !== null && `${result.turns} turns`,
    result.inputTokens !== null && `${result.inputTokens} input tokens`,
    result.outputTokens !== null && `${result.outputTokens} output tokens`,
    result.costUsd !== null && `$${result.costUsd.toFixed(4)}`,
  ].filter(Boolean);
  return parts.length ? `<sub>${parts.join(" · ")}</sub>` : null;
}

function firstLine(text: string | undefined): string {
  return (text ?? "unknown error").split("\n")[0]?.slice(0, 200) ?? "";
}

function fence(text: string): string {
  const [head = "", ...rest] = text.split("\n");
  return rest.length ? `${head}\n\n\`\`\`\n${tailLines(rest.join("\n"), 30).replace(/```/g, "ˋˋˋ")}\n\`\`\`` : head;
}

function summaryBlock(summary: string): string {
  const text = redactSecrets(summary).trim();
  return text
    ? `\n\nWhat it said:\n${text
        .slice(0, 2000)
        .split("\n")
        .map((l) => `> ${l}`)
        .join("\n")}`
    : "";
}
