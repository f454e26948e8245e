import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Agent, AgentRunInput, AgentRunResult } from "./agents/types.js";
import type { TaskRun } from "./run-task.js";

/**
 * The agent's own session across the rounds of one task attempt (issue 10): one private HOME per
 * attempt, kept while its rounds run (an agent CLI keeps its sessions there: Claude Code under
 * `~/.claude/projects`, Codex under `$CODEX_HOME/sessions`), and the last session id each agent
 * reported. A round after a failed verification resumes that session with only the failure as its
 * next turn (`claude -p --resume`, `codex exec resume`); an agent that cannot resume, or whose
 * session is gone, gets the fresh prompt (the task, the previous summary and the failure).
 */

/** The attempt's HOME and the last session id per agent name. One per `TaskRun` (parallel attempts each have their own). */
export interface AgentSession {
  home: string;
  ids: Record<string, string>;
  /** Rounds that continued a resumed session (for the PR's rounds note). */
  resumed: number;
}

/** The next round's turn, set by rounds.ts for the agent run that continues the task. */
export interface NextTurn {
  /** 1-based number of the round about to run. */
  round: number;
  /** Only the failure, fenced as data: the next turn of a resumed session. */
  text: string;
  /** The whole prompt (task, previous summary, failure) for an agent that starts fresh; built once, on demand. */
  fresh: () => Promise<string>;
}

const homesDir = (run: TaskRun): string => path.join(run.deps.settings.dataDir, "homes");

/** The attempt's session, its HOME created (private, empty) on first use. */
export async function attemptSession(run: TaskRun): Promise<AgentSession> {
  if (run.agentSession) return run.agentSession;
  await mkdir(homesDir(run), { recursive: true });
  const home = await mkdtemp(path.join(homesDir(run), `task-${run.task.id}-attempt-${run.task.attempts}-`));
  run.agentSession = { home, ids: {}, resumed: 0 };
  return run.agentSession;
}

/**
 * Removes every agent HOME of the run's task (its attempt's, and parallel attempts' beside it):
 * called when the task's run or follow-up ends, whatever happened. One task runs in one worker at
 * a time (its lease), so nothing of another live run is touched; HOMEs a crashed run left go too.
 */
export async function removeAgentHomes(run: TaskRun): Promise<void> {
  const prefix = `task-${run.task.id}-`;
  const names = await readdir(homesDir(run)).catch(() => [] as string[]);
  await Promise.all(
    names.filter((name) => name.startsWith(prefix)).map((name) => rm(path.join(homesDir(run), name), { recursive: true, force: true })),
  );
  run.agentSession = undefined;
}

/**
 * Runs `agent` once for the run: resuming its session with `run.nextTurn.text` when a round asks
 * for it and the agent can (same agent, an id from this attempt); else with the fresh prompt
 * (`run.nextTurn.fresh()`, or `run.prompt`). A resume the CLI refuses (the session is gone) is
 * said in the run notes and followed by a fresh run in the same round. Records the session id the
 * agent reports. Never throws for the agent's own failures (as `Agent.run`).
 */
export async function runAgentSession(
  run: TaskRun,
  agent: Agent,
  input: Omit<AgentRunInput, "prompt" | "home" | "resume">,
): Promise<AgentRunResult> {
  const session = await attemptSession(run);
  const turn = run.nextTurn;
  const resume = turn && agent.resumable ? session.ids[agent.name] : undefined;
  let result: AgentRunResult | undefined;
  if (turn && resume) {
    result = await agent.run({ ...input, home: session.home, prompt: turn.text, resume });
    if (result.resumeFailed) {
      const why = (result.error ?? "").split("\n").find((l) => /session|conversation|rollout|thread/i.test(l)) ?? "the session is gone";
      run.notes.push(
        `Round ${turn.round}: \`${agent.name}\` could not resume its session (${why.trim().slice(0, 200)}), so it started again with the task and the failures.`,
      );
      delete session.ids[agent.name];
      result = undefined;
    } else session.resumed++;
  }
  if (!result) {
    if (turn) run.prompt = await turn.fresh();
    result = await agent.run({ ...input, home: session.home, prompt: run.prompt as string });
  }
  if (result.sessionId) session.ids[agent.name] = result.sessionId;
  return result;
}
