import type { Jobs } from "../jobs/types.js";
import type { Db } from "../store/db.js";
import { setMetricSources } from "../util/metrics.js";

/**
 * Points the scrape-time gauges of src/util/metrics.ts at this process's store and job backend:
 * `backlog_bot_tasks{state}` counts tasks by state; `backlog_bot_job_queue_depth` and
 * `backlog_bot_job_oldest_age_seconds` come from `jobs.stats()` (queue label `all`: the port
 * reports totals). Call once at start.
 */
export function connectMetricSources(db: Db, jobs?: Pick<Jobs, "stats">): void {
  setMetricSources({
    async tasksByState() {
      const rows = await db
        .selectFrom("tasks")
        .select(["state", db.fn.countAll<number>().as("n")])
        .groupBy("state")
        .execute();
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    },
    ...(jobs && {
      async jobQueue() {
        const stats = await jobs.stats();
        return [{ queue: "all", depth: stats.pending, oldestAgeSeconds: stats.oldestDueMs / 1000 }];
      },
    }),
  });
}
