import { listAudit } from "../../store/audit.js";
import { computeOutcomes } from "../outcomes.js";
import { getRunInScope, getTaskInScope, listTasksPage } from "../queries.js";
import { readTranscript } from "../transcript.js";
import { notFound, route } from "./route.js";
import { cursorNumber, repoOrNotFound, requester, write } from "./route-helpers.js";
import * as s from "./schemas.js";
import { keysetPage, runOut, taskOut } from "./shape.js";

/** Tasks and their runs, the audit log and the outcome figures. */
export const taskRoutes = [
  route({
    method: "GET",
    path: "/tasks",
    operationId: "listTasks",
    summary: "Tasks, newest first, by repository and state.",
    tag: "tasks",
    query: s.TasksQuery,
    response: s.TasksOut,
    async handle(ctx) {
      let repositoryId: number | undefined;
      if (ctx.query.repository) repositoryId = (await repoOrNotFound(ctx, ctx.query.repository)).id;
      const rows = await listTasksPage(ctx.deps.db, ctx.scope, {
        repositoryId,
        state: ctx.query.state,
        before: cursorNumber(ctx.query.cursor),
        limit: ctx.query.limit,
      });
      return keysetPage(rows, ctx.query.limit, taskOut);
    },
  }),
  route({
    method: "GET",
    path: "/tasks/{id}",
    operationId: "getTask",
    summary: "One task with its runs.",
    tag: "tasks",
    params: s.IdParams,
    response: s.TaskDetailOut,
    async handle(ctx) {
      const found = await getTaskInScope(ctx.deps.db, ctx.params.id, ctx.scope);
      if (!found) throw notFound(`Task ${ctx.params.id}`);
      return { ...taskOut(found.task), runs: found.runs.map(runOut) };
    },
  }),
  ...(["cancel", "retry"] as const).map((verb) =>
    route({
      method: "POST",
      path: `/tasks/{id}/${verb}`,
      operationId: `${verb}Task`,
      summary:
        verb === "cancel" ? "Cancel a queued or running task (write access)." : "Run an ended task again (write access; limits apply).",
      tag: "tasks",
      params: s.IdParams,
      body: s.EmptyBody,
      response: s.TaskRefOut,
      async handle(ctx) {
        const found = await getTaskInScope(ctx.deps.db, ctx.params.id, ctx.scope);
        if (!found) throw notFound(`Task ${ctx.params.id}`);
        await ctx.requireWrite(await repoOrNotFound(ctx, found.task.repository));
        const input = { taskId: found.task.id, by: requester(ctx) };
        return write(ctx, (r) => (verb === "cancel" ? r.cancelTask(input) : r.retryTask(input)));
      },
    }),
  ),
  route({
    method: "GET",
    path: "/runs/{id}",
    operationId: "getRun",
    summary: "One agent run with its transcript parsed into events (messages, tool calls, results).",
    tag: "runs",
    params: s.IdParams,
    response: s.RunDetailOut,
    async handle(ctx) {
      const found = await getRunInScope(ctx.deps.db, ctx.params.id, ctx.scope);
      if (!found) throw notFound(`Run ${ctx.params.id}`);
      return { ...runOut(found.run), repository: found.task.repository, transcript: await readTranscript(found.run.transcript_path) };
    },
  }),
  route({
    method: "GET",
    path: "/audit",
    operationId: "listAudit",
    summary: "The audit log, newest first: GitHub writes of the bot and commands accepted or refused.",
    tag: "audit",
    query: s.AuditQuery,
    response: s.AuditOut,
    async handle(ctx) {
      let repositories = ctx.readable === "all" ? undefined : [...ctx.readable];
      if (ctx.query.repository) repositories = repositories && !repositories.includes(ctx.query.repository) ? [] : [ctx.query.repository];
      const { items, nextBefore } = await listAudit(ctx.deps.db, {
        repositories,
        actor: ctx.query.actor,
        action: ctx.query.action,
        outcome: ctx.query.outcome,
        before: cursorNumber(ctx.query.cursor),
        limit: ctx.query.limit,
      });
      return { items, nextCursor: nextBefore === null ? null : String(nextBefore) };
    },
  }),
  route({
    method: "GET",
    path: "/outcomes",
    operationId: "getOutcomes",
    summary: "Outcome metrics (DORA-style): PRs per week, lead time, failure rate, merge rate, cost per merged PR.",
    tag: "outcomes",
    query: s.OutcomesQuery,
    response: s.OutcomesOut,
    async handle(ctx) {
      let scope = ctx.scope;
      if (ctx.query.repository) scope = [(await repoOrNotFound(ctx, ctx.query.repository)).id];
      return computeOutcomes(ctx.deps.db, scope, ctx.query.weeks, ctx.now);
    },
  }),
];
