import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Octokit } from "@octokit/rest";
import type { Settings } from "../config/env.js";
import { lastValidConfig } from "../config/load.js";
import { commitWorktree, pushCommit } from "../git/commit.js";
import { git } from "../git/git.js";
import { createWorktree, protectMirrorConfig, removeWorktree, syncMirror } from "../git/workspace.js";
import type { GitHubAccess } from "../github/access.js";
import type { Jobs } from "../jobs/types.js";
import { recordAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { finishRun, startRun } from "../store/runs.js";
import type { Repository, Task } from "../store/schema.js";
import { renewLease } from "../store/tasks.js";
import { BacklogBotError } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { redactSecrets } from "../util/logger.js";
import { metrics, recordRunMetrics } from "../util/metrics.js";
import { type AgentSession, type NextTurn, removeAgentHomes, runAgentSession } from "./agent-session.js";
import { preparePrompt } from "./agents/prompt/index.js";
import type { PromptSources } from "./agents/prompt/sources.js";
import { type AgentRegistry, resolveAgent } from "./agents/registry.js";
import type { Agent, AgentRunResult } from "./agents/types.js";
import { runParallelAttempts } from "./attempts.js";
import type { CircuitBreakers } from "./circuit-breaker.js";
import { type ChangedFile, changedFiles, checkDiffPolicy } from "./guard.js";
import { openDraftPullRequest } from "./pull-request.js";
import { publishVerification, verifyRounds } from "./rounds.js";
import { promptSourcesFor } from "./task-prompt.js";
import type { Verification } from "./verify.js";
import { failureHeadline, verificationSection } from "./verify-report.js";
import { DEFAULT_WORKFLOW, runWorkflow, workflowFor } from "./workflows.js";

/** What running a task needs. */
export interface ExecutorDeps {
  db: Db;
  settings: Settings;
  agents: AgentRegistry;
  github: GitHubAccess;
  jobs: Jobs;
  breakers: CircuitBreakers;
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

/** The commit trailer that marks a commit as this task's (so a retry recognises its own earlier push). */
export const taskTrailer = (taskId: number) => `Backlog-Bot-Task: ${taskId}`;

/** A failure that ends the task `failed`, with a message for the issue thread. */
export class TaskFailure extends BacklogBotError {
  constructor(message: string, options?: { cause?: unknown; infrastructure?: boolean }) {
    super("TASK_FAILED", message, options);
    this.infrastructure = options?.infrastructure ?? false;
  }
  /** Not the task's fault (a clone failed, every agent's service refused): counts against circuit breakers. */
  readonly infrastructure: boolean;
}

/** One run of a claimed task: the state every step reads and writes. */
export interface TaskRun {
  deps: ExecutorDeps;
  task: Task;
  repo: Repository;
  /** The lease owner this run acts as. */
  owner: string;
  signal: AbortSignal;
  log: Logger;
  github: { owner: string; name: string; octokit: Octokit };
  branch: string;
  mirror?: string;
  worktree?: string;
  /** The commit the worktree started from: the bot's commit builds on it. */
  baseCommit?: string;
  prompt?: string;
  agent?: string;
  result?: AgentRunResult;
  /** Lines for the PR body, e.g. which agent stood in for which. */
  notes: string[];
  files?: ChangedFile[];
  diffStat?: string;
  commitSha?: string;
  pr?: { number: number; url: string };
  /** The commit verification compares against when it is not `baseCommit` (a follow-up builds on the PR's tip but is judged against its base). */
  verifyBase?: string;
  /** Where the prompt came from, so a verification round can repeat the task (rounds.ts). */
  promptSources?: PromptSources;
  /** The last verification round's result, and every round's (rounds.ts). */
  verification?: Verification;
  verificationRounds?: Verification[];
  /** The attempt's agent HOME and session ids, kept across its rounds (agent-session.ts). */
  agentSession?: AgentSession;
  /** Set by rounds.ts while a round continues the agent: resume its session, or start fresh. */
  nextTurn?: NextTurn;
}

/** How a run ended (the caller turns it into the task's state and its one reply). */
export type RunEnd =
  | { state: "no_changes"; agent: string; summary: string }
  | { state: "pr_open"; pr: { number: number; url: string }; agent: string };

/**
 * The pipeline of one claimed task, as named steps over one `TaskRun`: workspace → prompt →
 * agents → changes → commit → push → pull request. Each step reads what earlier steps wrote.
 * The worktree is removed at the end, whatever happened.
 * @throws TaskFailure for an outcome to tell the person who asked; any other error is infrastructure (clone, GitHub).
 */
export async function runTaskSteps(run: TaskRun): Promise<RunEnd> {
  try {
    await prepareWorkspace(run);
    await buildPrompt(run);
    const noChanges = (): RunEnd => ({ state: "no_changes", agent: run.agent ?? "", summary: run.result?.summary ?? "" });
    const workflow = workflowFor(run, run.task.workflow);
    if (lastValidConfig(run.repo).strategy === "parallel") await runParallelAttempts(run);
    else if (workflow !== DEFAULT_WORKFLOW) await runWorkflow(run, workflow);
    else {
      await runAgents(run);
      if ((await inspectChanges(run)).length === 0) return noChanges();
      await verifyRounds(run, runAgents);
    }
    if (run.signal.aborted) throw new BacklogBotError("INTERRUPTED", "shutdown");
    // A later round may have undone everything, or touched what the diff policy forbids.
    if ((await inspectChanges(run)).length === 0) return noChanges();
    await commit(run);
    await push(run);
    await openPullRequest(run);
    await publishVerification(run);
    return { state: "pr_open", pr: run.pr as { number: number; url: string }, agent: run.agent ?? "" };
  } finally {
    if (run.mirror && run.worktree) await removeWorktree(run.mirror, run.worktree, run.branch);
    await removeAgentHomes(run);
  }
}

/** Mirror fetched (the installation token minted for it), and a fresh worktree for this attempt on the task's branch. */
export async function prepareWorkspace(run: TaskRun): Promise<void> {
  const mirror = await fetchMirror(run);
  // A fresh worktree per attempt: an agent of a dead earlier attempt can never write into this one.
  const created = await createWorktree(
    mirror,
    run.deps.settings.dataDir,
    run.task.id,
    run.branch,
    run.repo.default_branch,
    run.task.attempts,
  );
  run.worktree = created.worktree;
  run.baseCommit = created.baseCommit;
}

/**
 * Brings the repository's mirror up to date (the token minted right before the fetch) and sets `run.mirror`.
 * @throws TaskFailure (infrastructure) when there is no clone URL or the fetch fails.
 */
export async function fetchMirror(run: TaskRun): Promise<string> {
  const { repo, deps } = run;
  if (!repo.clone_url) throw new TaskFailure(`no clone URL is known for ${repo.full_name}`);
  try {
    run.mirror = await syncMirror({
      dataDir: deps.settings.dataDir,
      fullName: repo.full_name,
      cloneUrl: repo.clone_url,
      defaultBranch: repo.default_branch,
      token: tokenFor(run),
    });
    return run.mirror;
  } catch (error) {
    throw new TaskFailure(`could not fetch ${repo.full_name}: ${(error as Error).message}`, { cause: error, infrastructure: true });
  }
}

/** Mints the installation token right before the git call that needs it. */
const tokenFor = (run: TaskRun) => () => run.deps.github.token(run.repo.installation_id);

/** The prompt, from the issue as it was when the person asked (its title, body and writers' comments then). */
export async function buildPrompt(run: TaskRun): Promise<void> {
  run.promptSources = await promptSourcesFor(run);
  run.prompt = await preparePrompt(run.promptSources);
}

/**
 * The chosen agent, then the fallbacks while an agent cannot run for infrastructure reasons (its
 * binary missing, its model service refusing). Agents whose circuit breaker is open are skipped.
 * @throws TaskFailure when no agent finished.
 */
export async function runAgents(run: TaskRun): Promise<void> {
  const { deps, task } = run;
  const choice = resolveAgent(deps.agents, task.agent);
  if ("error" in choice) throw new TaskFailure(choice.error);
  const restoreConfig = await protectMirrorConfig(run.mirror as string, run.worktree as string);
  const skipped: string[] = [];
  try {
    for (const agent of choice.agents) {
      const breaker = await deps.breakers.check(`agent:${agent.name}`);
      if (!breaker.allowed) {
        skipped.push(agent.name);
        run.notes.push(`\`${agent.name}\` was skipped: it failed repeatedly just before (${firstLine(breaker.lastError ?? undefined)}).`);
        continue;
      }
      run.agent = agent.name;
      run.result = await runAgent(run, agent);
      if (run.signal.aborted) {
        // Stopped from outside (cancel, shutdown, lost lease): nothing was learnt of the agent; a trial it held is given back.
        if (breaker.trial) await deps.breakers.release(`agent:${agent.name}`);
        return;
      }
      if (run.result.outcome === "finished" || !run.result.infrastructureFailure) {
        await deps.breakers.success(`agent:${agent.name}`);
        break;
      }
      await deps.breakers.failure(`agent:${agent.name}`, firstLine(run.result.error));
      run.notes.push(`\`${agent.name}\` could not run (${firstLine(run.result.error)}).`);
      run.log.warn({ agent: agent.name, error: run.result.error }, "agent unavailable; trying the next one");
    }
  } finally {
    await restoreConfig();
  }
  if (run.signal.aborted) return;
  const result = run.result;
  if (!result) throw new TaskFailure(`no agent could run: ${skipped.join(", ")} paused after repeated failures`, { infrastructure: true });
  if (result.outcome !== "finished") {
    const why = result.outcome === "timeout" ? "timed out" : "failed";
    throw new TaskFailure(`\`${run.agent}\` ${why}: ${result.error ?? "no result"}${run.notes.length ? `\n${run.notes.join("\n")}` : ""}`, {
      infrastructure: result.infrastructureFailure === true,
    });
  }
}

async function runAgent(run: TaskRun, agent: Agent): Promise<AgentRunResult> {
  const { deps, task } = run;
  const { dataDir } = deps.settings;
  const runId = await startRun(deps.db, task.id, agent.name);
  const started = Date.now();
  await mkdir(path.join(dataDir, "transcripts"), { recursive: true });
  const transcriptPath = path.join(dataDir, "transcripts", `task-${task.id}-run-${runId}.log`);
  // The attempt's HOME outlives this run (the next round may resume the session); runTaskSteps removes it.
  const result = await runAgentSession(run, agent, {
    worktree: run.worktree as string,
    transcriptPath,
    timeoutMs: deps.settings.agentTimeoutMs,
    maxOutputBytes: deps.settings.maxOutputBytes,
    signal: run.signal,
  });
  const cap = deps.agents.maxCostUsdPerRun;
  if (cap !== undefined && result.costUsd !== null && result.costUsd > cap && result.outcome === "finished") {
    // Enforced from the reported cost for agents without a cap of their own: the change is not used.
    result.outcome = "failed";
    result.error = `the run cost $${result.costUsd.toFixed(2)}, over the per-run cap of $${cap} (BACKLOG_BOT_MAX_COST_USD_PER_RUN); its change was not used`;
  }
  const files = result.outcome === "finished" ? await changedFiles(run.worktree as string) : [];
  const outcome = result.outcome === "finished" ? (files.length > 0 ? "changes" : "no_changes") : result.outcome;
  await finishRun(deps.db, runId, {
    exit_code: result.exitCode,
    outcome,
    summary: redactSecrets(result.summary).slice(0, 20_000),
    turns: result.turns,
    input_tokens: result.inputTokens,
    output_tokens: result.outputTokens,
    cost_usd: result.costUsd,
    verification: "skipped",
    diff_stat: files.length > 0 ? `${files.length} file(s)` : null,
    transcript_path: result.transcriptPath,
    error: result.error ? redactSecrets(result.error).slice(0, 4000) : null,
    sandbox_denials: result.denials ?? null,
    agent_session_id: result.sessionId ?? null,
  });
  if (result.denials) metrics.sandboxDenials.inc({ kind: "network" }, result.denials);
  recordRunMetrics({
    agent: agent.name,
    outcome,
    durationMs: Date.now() - started,
    turns: result.turns,
    inputTokens: result.inputTokens,
    outputTokens: result.outputTokens,
    costUsd: result.costUsd,
  });
  return result;
}

/**
 * What the agent changed; refuses a change the diff policy forbids.
 * @throws TaskFailure naming the forbidden paths.
 */
export async function inspectChanges(run: TaskRun): Promise<ChangedFile[]> {
  run.files = await changedFiles(run.worktree as string);
  const refusal = checkDiffPolicy(run.files);
  if (refusal) throw new TaskFailure(refusal);
  return run.files;
}

/**
 * What a failed push means for the task (git's own words from `error`'s message):
 * - the branch moved on GitHub (`--force-with-lease` saw stale info, or it is not a fast-forward):
 *   a TaskFailure asking to clear the branch, since nothing was overwritten;
 * - GitHub refused the push (`[remote rejected]`: a file over 100 MB, a workflow change without the
 *   `workflows` permission, a ruleset, a pre-receive hook): a TaskFailure with GitHub's reason, since
 *   a retry would be refused alike;
 * - anything else (the network, credentials): `error` itself, an infrastructure failure to retry.
 */
export function pushFailure(error: unknown, branch: string): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (/stale info|fetch first|non-fast-forward/i.test(message)) {
    return new TaskFailure(
      `the branch \`${branch}\` changed on GitHub since backlog-bot last pushed to it, so nothing was overwritten. Delete the branch or merge what is there, then \`/agent retry\`.`,
      { cause: error },
    );
  }
  if (/remote rejected|pre-receive hook declined/i.test(message)) {
    const reasons = message
      .split("\n")
      .map((line) => line.replace(/^remote:\s*/, "").trim())
      .filter((line) => line && !/^(error: failed to push|To |git push failed|hint:)/.test(line));
    const reason = redactSecrets(reasons.join(" ").replace(/\s+/g, " ")).slice(0, 500);
    return new TaskFailure(`GitHub refused the push of \`${branch}\`: ${reason}`, { cause: error });
  }
  return error;
}

/**
 * The bot's commit message: the title's first line (untrusted: a zero-width space after `@` and
 * `#`, so "closes #40" in it closes no issue when the commit lands and "@team" pings no one), the
 * task's own issue as the one `Fixes`, and the task trailer.
 */
export function commitMessage(task: Pick<Task, "id" | "title" | "issue_number">, agent: string): string {
  const title = (task.title.split("\n")[0] ?? "").replace(/([@#])/g, "$1\u200b");
  const subject = task.issue_number !== null ? `${title} (#${task.issue_number})` : title;
  const closing = task.issue_number !== null ? `\n\nFixes #${task.issue_number}` : "";
  return `${subject.slice(0, 200)}\n\nMade by backlog-bot task #${task.id} with ${agent}.${closing}\n\n${taskTrailer(task.id)}`;
}

/** One commit as the app's bot user, with the task trailer, made from the mirror's git directory (never the worktree's `.git`). */
export async function commit(run: TaskRun): Promise<void> {
  const { deps, task, repo } = run;
  const identity = await deps.github.botIdentity(repo.installation_id);
  const message = commitMessage(task, run.agent ?? "an agent");
  const made = await commitWorktree(run.mirror as string, run.worktree as string, run.baseCommit as string, message, identity);
  run.commitSha = made.commit;
  run.diffStat = made.diffStat;
}

/**
 * Pushes with `--force-with-lease` against what this task last pushed (or, when nothing is
 * recorded, against the remote branch only if its tip is this task's own commit; else the branch
 * must not exist), so commits others added to the bot's branch are never overwritten. Checks the
 * lease first: a worker that lost its task pushes nothing.
 * @throws LeaseLost when the task is no longer this worker's; TaskFailure when the branch moved under us or belongs to someone else.
 */
export async function push(run: TaskRun): Promise<void> {
  const { deps, task, repo } = run;
  if (!(await renewLease(deps.db, task.id, run.owner, deps.settings.leaseMs))) throw new LeaseLost(task.id);
  const lease = task.pushed_sha ?? (await ownRemoteTip(run));
  const audit = (outcome: string, detail: unknown) =>
    recordAudit(deps.db, {
      actor: "backlog-bot",
      action: "git.push",
      repository: repo.full_name,
      target: run.branch,
      outcome,
      detail,
    }).catch((err: unknown) => run.log.warn({ err }, "could not write an audit row"));
  try {
    await pushCommit(run.mirror as string, repo.clone_url as string, run.commitSha as string, run.branch, tokenFor(run), lease || null);
    await audit("ok", { commit: run.commitSha, task: task.id });
  } catch (error) {
    await audit("failed", { commit: run.commitSha, task: task.id, error: redactSecrets((error as Error).message).slice(0, 500) });
    throw pushFailure(error, run.branch);
  }
  await deps.db
    .updateTable("tasks")
    .set({ pushed_sha: run.commitSha ?? null, branch: run.branch })
    .where("id", "=", task.id)
    .where("lease_owner", "=", run.owner)
    .execute();
}

/** The remote branch's tip when it is this task's own commit (a push before a crash); "" when the branch is absent. */
async function ownRemoteTip(run: TaskRun): Promise<string> {
  const mirror = run.mirror as string;
  const tip = await git(["rev-parse", "--verify", "--quiet", `refs/remotes/origin/${run.branch}`], { cwd: mirror }).then(
    (r: { stdout: string }) => r.stdout.trim(),
    () => "",
  );
  if (!tip) return "";
  const { stdout } = await git(["log", "-1", "--format=%B", tip], { cwd: mirror });
  if (stdout.includes(taskTrailer(run.task.id))) return tip;
  throw new TaskFailure(
    `a branch named \`${run.branch}\` already exists and was not made by this task; backlog-bot will not overwrite it.`,
  );
}

/** The draft PR (or the open one of the branch, after a crash between push and PR). */
export async function openPullRequest(run: TaskRun): Promise<void> {
  const { task, repo, github, result } = run;
  run.pr = await openDraftPullRequest(github.octokit, {
    owner: github.owner,
    repo: github.name,
    branch: run.branch,
    base: repo.default_branch,
    taskId: task.id,
    issueNumber: task.issue_number,
    title: task.title,
    requestedBy: task.requested_by,
    instructions: task.instructions,
    agent: run.agent ?? "",
    summary: result?.summary ?? "",
    notes: run.notes,
    figures: result ? figures(result) : null,
    diffStat: run.diffStat ?? "",
    verification: run.verification ? { section: verificationSection(run.verification), headline: failureHeadline(run.verification) } : null,
  });
}

/** The worker no longer holds the task's lease: it must stop acting on the task. */
export class LeaseLost extends BacklogBotError {
  constructor(taskId: number) {
    super("LEASE_LOST", `task #${taskId}: the lease was lost to another worker; this worker stops`);
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

/** The first line of a message, at most 200 characters. */
export function firstLine(text: string | undefined): string {
  return (text ?? "unknown error").split("\n")[0]?.slice(0, 200) ?? "";
}
