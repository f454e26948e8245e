import path from "node:path";
import { RequestError } from "@octokit/request-error";
import { lastValidConfig } from "../config/load.js";
import type { VerifyConfig } from "../config/schema.js";
import { publishCheckRun } from "../github/check-runs.js";
import { runSandboxed } from "../sandbox/run.js";
import { finishRun, latestRun } from "../store/runs.js";
import { metrics } from "../util/metrics.js";
import type { NextTurn } from "./agent-session.js";
import { buildPrompt } from "./agents/prompt/build.js";
import { preparePrompt } from "./agents/prompt/index.js";
import type { PromptSources, VerificationFailure } from "./agents/prompt/sources.js";
import { TaskFailure, type TaskRun } from "./run-task.js";
import { promptSourcesFor } from "./task-prompt.js";
import { type Verification, verifyChange } from "./verify.js";
import { verificationLine, verifyCheckRunOutput } from "./verify-report.js";

/**
 * Rounds until green (issue 10): verify the agent's change; while the tests fail (or the change
 * was flagged for masking tests) and rounds remain, the agent continues in the same worktree with
 * the failure as its next turn: an agent that can resume its own session (Claude Code, Codex) gets
 * only the failure in that session, the others a fresh prompt with the task, their previous
 * summary and the failure (agent-session.ts). A round that changes nothing, or ends with the same
 * failing tests, stops the loop early: another round would cost the same and learn nothing.
 */

/** What the rounds leave on the run. */
export interface RoundsOutcome {
  /** Every round's verification, first to last. */
  rounds: Verification[];
  /** The last round's: the evidence for the PR and the check run. */
  final: Verification;
  /** Why the rounds stopped before `verify.maxRounds`, when they did; null otherwise. */
  stoppedEarly: string | null;
}

/**
 * Whether another round could help. A task is complete only when the tests pass (issue 10), so
 * failures the base commit has too count (often they are the bug the task is about); a round
 * that leaves the same set stops the loop (`noProgress`). Not when setup fails in both trees:
 * that is the repository's or the machine's problem, not the change's.
 */
export function wantsAnotherRound(v: Verification): boolean {
  if (v.status === "flagged") return true;
  if (v.status !== "failed" && v.status !== "no_new_failures") return false;
  return !(v.head?.failedStep === "setup" && v.base?.failedStep === "setup");
}

/** Why `next` shows no progress over `previous`, or null: no change to the tree, or the same failures. */
export function noProgress(previous: Verification, next: Verification): string | null {
  if (next.headTree === previous.headTree) return "the round changed nothing";
  const failing = (v: Verification) => JSON.stringify([...(v.head?.report?.failures ?? [v.head?.tail ?? ""])].sort());
  if (next.status === previous.status && failing(next) === failing(previous) && next.masking.length === previous.masking.length) {
    return "the same tests still fail";
  }
  return null;
}

/** The verify options in force: the repository config of the default branch, never the worktree's. */
function verifyConfig(run: TaskRun): VerifyConfig {
  return lastValidConfig(run.repo).verify;
}

/** Verifies the worktree and records the result on the round's run row (the agent run that just ended). */
async function verifyRound(run: TaskRun, round: number, config: VerifyConfig): Promise<Verification> {
  const { deps } = run;
  const verification = await verifyChange(
    { db: deps.db, runner: runSandboxed, log: run.log },
    {
      repositoryId: run.repo.id,
      worktree: run.worktree as string,
      baseSha: run.verifyBase ?? (run.baseCommit as string),
      config: { ...config, operatorHosts: deps.settings.verifyAllowedHosts },
      scratchDir: path.join(deps.settings.dataDir, "verify"),
      maxOutputBytes: deps.settings.maxOutputBytes,
      signal: run.signal,
    },
  );
  const row = await latestRun(deps.db, run.task.id, run.agent);
  if (row) {
    await finishRun(deps.db, row.id, {
      round,
      verification: verification.status,
      verification_detail: JSON.stringify(verification),
      masking_flags: JSON.stringify(verification.masking),
    });
  }
  run.log.info({ round, status: verification.status, reason: verification.reason }, "round verified");
  metrics.verifications.inc({ phase: "after", outcome: verification.masking.length > 0 ? "masking" : verification.status });
  return verification;
}

/** The failure as the next round sees it: the verification line, the guard's flags and the output tail (sanitised and capped when formatted). */
function failureOf(v: Verification): VerificationFailure {
  const flags = v.masking.map((f) => `anti-masking guard: ${f.kind} in ${f.path}${f.line ? `:${f.line}` : ""}: ${f.detail}`);
  return {
    command: v.command,
    exitCode: v.head?.exitCode ?? null,
    output: [verificationLine(v), ...flags, "", v.head?.tail ?? ""].join("\n"),
    newFailures: v.newFailures,
  };
}

/**
 * The next round's turn: for a resumed session only the failure (the fixed rules and one
 * `verify_failure` section: the session holds the task and the agent's own account already); for
 * a fresh start, built on demand once, the original task's sections, the previous summary and the failure.
 */
export function nextTurn(run: TaskRun, round: number, maxRounds: number, v: Verification): NextTurn {
  const failure = failureOf(v);
  const text = buildPrompt({
    repository: run.repo.full_name,
    kind: "verify_round",
    verification: { round, maxRounds, previousSummary: null, failure },
  });
  let fresh: Promise<string> | undefined;
  const build = async () =>
    preparePrompt({
      kind: "verify_round",
      repository: run.repo.full_name,
      worktree: run.worktree as string,
      round,
      maxRounds,
      previousSummary: run.result?.summary ?? null,
      failure,
      task: await taskSources(run),
    });
  return { round, text, fresh: () => (fresh ??= build()) };
}

/**
 * The original task's sources, so an agent that starts fresh (aider, gemini, command) sees the
 * task again before the failure: the run's own when a step recorded them, else the task's (as
 * `buildPrompt` builds them), kept on the run so later rounds reuse them.
 */
async function taskSources(run: TaskRun): Promise<Exclude<PromptSources, { kind: "verify_round" }>> {
  if (!run.promptSources || run.promptSources.kind === "verify_round") run.promptSources = await promptSourcesFor(run);
  return run.promptSources as Exclude<PromptSources, { kind: "verify_round" }>;
}

/** The PR's line about the rounds: how each ended, and how the agent continued. */
export function roundsNote(rounds: readonly Verification[], resumed: number): string {
  const each = rounds.map((v, i) => `round ${i + 1}: ${v.status.replace(/_/g, " ")}`).join(", ");
  const how = resumed > 0 ? `; the agent resumed its own session with the failures ${resumed} time(s)` : "";
  return `Verification took ${rounds.length} rounds (${each})${how}.`;
}

/**
 * The verify step with its rounds. Leaves `run.verification` (the last round's) and
 * `run.verificationRounds`.
 * @param continueAgent - runs the agent(s) again with `run.nextTurn` (run-task's `runAgents`).
 * @throws TaskFailure when the tests still fail and `verify.onFailure` is `skip` (no PR is opened).
 */
export async function verifyRounds(run: TaskRun, continueAgent: (run: TaskRun) => Promise<void>): Promise<RoundsOutcome> {
  const config = verifyConfig(run);
  let final = await verifyRound(run, 1, config);
  const rounds = [final];
  let stoppedEarly: string | null = null;
  for (let round = 2; round <= config.maxRounds && wantsAnotherRound(final); round++) {
    run.nextTurn = nextTurn(run, round, config.maxRounds, final);
    try {
      await continueAgent(run);
    } finally {
      run.nextTurn = undefined;
    }
    if (run.signal.aborted) break;
    const next = await verifyRound(run, round, config);
    rounds.push(next);
    stoppedEarly = noProgress(final, next);
    final = next;
    if (stoppedEarly) {
      run.notes.push(`Verification round ${round} made no progress (${stoppedEarly}), so the rounds stopped there.`);
      break;
    }
  }
  run.verification = final;
  run.verificationRounds = rounds;
  if (rounds.length > 1) run.notes.push(roundsNote(rounds, run.agentSession?.resumed ?? 0));
  if (!final.verified && (final.status === "failed" || final.status === "flagged") && config.onFailure === "skip") {
    throw new TaskFailure(
      `the repository's tests did not pass after ${rounds.length} round(s), and \`verify.onFailure\` is \`skip\`, so no pull request was opened: ${final.reason}.`,
    );
  }
  return { rounds, final, stoppedEarly };
}

/**
 * The evidence on the commit: the `backlog-bot / verify` check run on the pushed head SHA, with the
 * same line as the PR body. A check run GitHub refuses (an installation without `checks: write`)
 * costs a note in the log, not the task: the PR body carries the same evidence.
 */
export async function publishVerification(run: TaskRun): Promise<void> {
  const v = run.verification;
  if (!v || !run.commitSha) return;
  const { conclusion, ...output } = verifyCheckRunOutput(v);
  try {
    await publishCheckRun(run.github.octokit, {
      owner: run.github.owner,
      repo: run.github.name,
      headSha: run.commitSha,
      externalId: `task-${run.task.id}:${run.commitSha.slice(0, 12)}`,
      conclusion,
      output,
      startedAt: new Date(Date.now() - v.durationMs).toISOString(),
    });
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    run.log.warn({ err: error, status: error.status }, "could not write the verify check run");
  }
}
