import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { lastValidConfig } from "../config/load.js";
import { git } from "../git/git.js";
import { removeWorktree, withLock } from "../git/workspace.js";
import { verifyRounds } from "./rounds.js";
import { inspectChanges, runAgents, TaskFailure, type TaskRun } from "./run-task.js";
import type { Verification } from "./verify.js";

/**
 * Parallel attempts (`strategy: parallel`, issue 10): the same task on up to `parallel.max`
 * enabled agents at once, each in a worktree of its own from the same base commit, each verified
 * with its own rounds. The bot keeps the verified change with the smallest diff (or, when none is
 * verified, the best-verified one), says in the PR who tried and why this one won, and every
 * attempt's runs count against the run limits like any other.
 */

/** One agent's attempt. */
export interface Attempt {
  agent: string;
  run: TaskRun;
  /** Lines added plus deleted against the base (null when it changed nothing or failed). */
  diffLines: number | null;
  error: string | null;
}

/** Verification statuses from best to worst, for choosing when nothing is verified. */
const RANK: Record<Verification["status"], number> = { passed: 0, no_new_failures: 1, none: 2, failed: 3, flagged: 4 };

/** The agents of a parallel run: the task's (or the repository's, or the operator's first), then the other enabled ones, at most `max`. */
export function attemptAgents(enabled: readonly string[], first: string | null, max: number): string[] {
  const start = first && enabled.includes(first) ? first : enabled[0];
  return [...new Set([start, ...enabled].filter((n): n is string => !!n))].slice(0, Math.max(1, max));
}

/** The winner: verified with the smallest diff; else the best status, then the smallest diff. Null when no attempt changed anything. */
export function chooseAttempt(attempts: readonly Attempt[]): Attempt | null {
  const candidates = attempts.filter((a) => a.diffLines !== null && a.run.verification);
  const score = (a: Attempt) => [RANK[a.run.verification?.status ?? "failed"], a.diffLines ?? Number.MAX_SAFE_INTEGER];
  return (
    [...candidates].sort((a, b) => {
      const [sa, da] = score(a);
      const [sb, db] = score(b);
      return (sa as number) - (sb as number) || (da as number) - (db as number);
    })[0] ?? null
  );
}

/** The PR note: who tried, how each ended, and why the kept one won. */
export function attemptsNote(attempts: readonly Attempt[], winner: Attempt): string {
  const lines = attempts.map((a) => {
    const how = a.error
      ? `failed (${a.error.split("\n")[0]?.slice(0, 120)})`
      : a.diffLines === null
        ? "changed nothing"
        : `${a.run.verification?.status ?? "unverified"}, ${a.diffLines} changed line(s)`;
    return `  - \`${a.agent}\`: ${how}`;
  });
  const why = winner.run.verification?.verified ? "verified, with the smallest diff" : "no attempt was verified; this one came closest";
  return [`Parallel attempts (\`strategy: parallel\`): kept \`${winner.agent}\` (${why}).`, ...lines].join("\n");
}

/** A detached worktree of the mirror at `commit`, beside the task's own. */
async function extraWorktree(run: TaskRun, index: number): Promise<string> {
  const mirror = run.mirror as string;
  const worktree = `${run.worktree}-p${index}`;
  await withLock(mirror, async () => {
    await rm(worktree, { recursive: true, force: true });
    await mkdir(path.dirname(worktree), { recursive: true });
    await git(["worktree", "add", "--quiet", "--detach", worktree, run.baseCommit as string], { cwd: mirror });
  });
  return worktree;
}

async function diffLines(run: TaskRun): Promise<number | null> {
  const tree = run.verification?.headTree;
  if (!tree) return null;
  const { stdout } = await git(["diff", "--numstat", run.baseCommit as string, tree], { cwd: run.worktree as string });
  return stdout
    .split("\n")
    .filter(Boolean)
    .reduce(
      (sum, line) =>
        sum +
        line
          .split("\t")
          .slice(0, 2)
          .reduce((n, v) => n + (Number(v) || 0), 0),
      0,
    );
}

/** Runs one attempt to the end of its rounds; never throws (a failed attempt is an outcome). */
async function attempt(run: TaskRun): Promise<Attempt> {
  const agent = run.task.agent ?? "";
  try {
    await runAgents(run);
    if ((await inspectChanges(run)).length === 0) return { agent, run, diffLines: null, error: null };
    await verifyRounds(run, runAgents).catch((error: unknown) => {
      if (!(error instanceof TaskFailure)) throw error; // onFailure: skip ends this attempt, not its rivals
    });
    return { agent, run, diffLines: await diffLines(run), error: null };
  } catch (error) {
    return { agent, run, diffLines: null, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The `strategy: parallel` step, in place of the agent and verify steps: leaves the winner's
 * worktree, agent, result and verification on `run` and removes the other worktrees.
 * @throws TaskFailure when no attempt changed anything or every attempt failed.
 */
export async function runParallelAttempts(run: TaskRun): Promise<void> {
  const config = lastValidConfig(run.repo);
  const names = attemptAgents(run.deps.agents.enabled, run.task.agent ?? config.agent ?? null, config.parallel.max);
  const runs: TaskRun[] = [];
  for (const [index, name] of names.entries()) {
    const worktree = index === 0 ? (run.worktree as string) : await extraWorktree(run, index);
    runs.push({ ...run, worktree, task: { ...run.task, agent: name }, notes: [], log: run.log.child({ attempt: name }) });
  }
  const attempts = await Promise.all(runs.map(attempt));
  const winner = chooseAttempt(attempts);
  for (const a of attempts) {
    if (a !== winner && a.run.worktree !== run.worktree) await removeWorktree(run.mirror as string, a.run.worktree as string, "");
  }
  if (!winner) {
    const why = attempts.map((a) => `\`${a.agent}\`: ${a.error ?? "no changes"}`).join("; ");
    if (attempts.every((a) => a.error)) throw new TaskFailure(`every parallel attempt failed: ${why}`);
    return; // nothing changed: the pipeline's own check ends the task `no_changes`
  }
  if (winner.run.worktree !== run.worktree) await rm(run.worktree as string, { recursive: true, force: true });
  Object.assign(run, {
    worktree: winner.run.worktree,
    agent: winner.run.agent,
    result: winner.run.result,
    verification: winner.run.verification,
    verificationRounds: winner.run.verificationRounds,
  });
  run.notes.push(...winner.run.notes, attemptsNote(attempts, winner));
}
