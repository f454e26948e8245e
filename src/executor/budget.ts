import type { Db } from "../store/db.js";
import { countQueuedTasks } from "../store/tasks.js";

/**
 * The operator's daily budget for the whole installation base (`BACKLOG_BOT_MAX_RUNS_PER_DAY`,
 * `BACKLOG_BOT_MAX_COST_USD_PER_DAY`); 0 means no limit. Counted over the last 24 hours.
 */
export interface OperatorBudget {
  maxRunsPerDay: number;
  maxCostUsdPerDay: number;
}

const DAY_MS = 86_400_000;

/** Why the operator's budget holds a repository's next run back, or null. */
export interface BudgetHold {
  code: "daily_budget" | "fair_share" | "cost_budget";
  message: string;
}

/**
 * Checks the operator's budget for one more run in `repositoryId`. Runs are shared fairly: while
 * other repositories have work (queued tasks, or runs today), a repository may use at most its
 * share, `ceil(maxRunsPerDay / repositories with work)`, so one busy repository cannot starve the
 * rest (round-robin in effect: the others' next runs fit under their share, the busy one's do not).
 * Work not yet paid for counts too: each queued task as a run to come, and for the cost budget each
 * run in progress or to come at the mean cost of the day's finished runs (a run's cost is known
 * only when it ends, so twenty tasks started at once all passed a budget with room for one).
 * @returns the hold, or null when the run fits.
 */
export async function checkOperatorBudget(db: Db, repositoryId: number, budget: OperatorBudget | undefined): Promise<BudgetHold | null> {
  if (!budget || (budget.maxRunsPerDay <= 0 && budget.maxCostUsdPerDay <= 0)) return null;
  const since = new Date(Date.now() - DAY_MS).toISOString();
  const perRepository = await db
    .selectFrom("runs")
    .innerJoin("tasks", "tasks.id", "runs.task_id")
    .select((eb) => [
      "tasks.repository_id as repository",
      eb.fn.countAll<number>().as("runs"),
      eb.fn.sum<number>("runs.cost_usd").as("cost"),
      eb.fn.count<number>("runs.cost_usd").as("priced"),
      eb.fn.count<number>("runs.ended_at").as("ended"),
    ])
    .where("runs.started_at", ">=", since)
    .groupBy("tasks.repository_id")
    .execute();
  const ran = perRepository.reduce((n, r) => n + Number(r.runs), 0);
  const spent = perRepository.reduce((n, r) => n + Number(r.cost ?? 0), 0);
  const priced = perRepository.reduce((n, r) => n + Number(r.priced), 0);
  const inProgress = perRepository.reduce((n, r) => n + Number(r.runs) - Number(r.ended), 0);
  const queuedTasks = await countQueuedTasks(db, null);
  const total = ran + queuedTasks;
  if (budget.maxCostUsdPerDay > 0) {
    const unpriced = inProgress + queuedTasks;
    const expected = spent + (priced > 0 ? (spent / priced) * unpriced : 0);
    if (expected >= budget.maxCostUsdPerDay) {
      const pending =
        expected > spent ? `, and about $${(expected - spent).toFixed(2)} more for the ${unpriced} runs under way or queued` : "";
      return {
        code: "cost_budget",
        message: `agents spent $${spent.toFixed(2)} in the last 24 hours across all repositories${pending} (the operator's daily budget is $${budget.maxCostUsdPerDay}). Work waits until it frees up.`,
      };
    }
  }
  if (budget.maxRunsPerDay <= 0) return null;
  if (total >= budget.maxRunsPerDay) {
    const waiting = queuedTasks ? ` and ${queuedTasks} tasks are queued` : "";
    return {
      code: "daily_budget",
      message: `agents ran ${ran} times in the last 24 hours across all repositories${waiting} (the operator's daily budget is ${budget.maxRunsPerDay}). Work waits until it frees up.`,
    };
  }
  const queued = await db.selectFrom("tasks").select("repository_id").distinct().where("state", "=", "queued").execute();
  const withWork = new Set([...perRepository.map((r) => Number(r.repository)), ...queued.map((r) => r.repository_id), repositoryId]);
  const share = Math.ceil(budget.maxRunsPerDay / withWork.size);
  const mine = Number(perRepository.find((r) => Number(r.repository) === repositoryId)?.runs ?? 0);
  if (withWork.size > 1 && mine >= share) {
    return {
      code: "fair_share",
      message: `this repository used its fair share of the operator's daily budget (${mine} of ${budget.maxRunsPerDay} runs, shared by ${withWork.size} repositories with work). Work waits until it frees up.`,
    };
  }
  return null;
}
