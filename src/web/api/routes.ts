import { listAudit } from "../../store/audit.js";
import { BacklogBotError } from "../../util/errors.js";
import type { Requester } from "../deps.js";
import { WebError } from "../http.js";
import { computeOutcomes } from "../outcomes.js";
import {
  backlogPage,
  findRepository,
  getFindingInScope,
  getRunInScope,
  getTaskInScope,
  listFindingsPage,
  listRepositorySummaries,
  listTasksPage,
} from "../queries.js";
import { readTranscript } from "../transcript.js";
import { type ApiContext, notFound, route } from "./route.js";
import * as s from "./schemas.js";
import { findingOut, keysetPage, runOut, taskOut } from "./shape.js";

const cursorNumber = (cursor: string | undefined): number | undefined => (cursor === undefined ? undefined : Number(cursor));

async function repoOrNotFound(ctx: ApiContext, fullName: string) {
  const repo = await findRepository(ctx.deps.db, fullName, ctx.scope);
  if (!repo) throw notFound(`Repository ${fullName}`);
  return repo;
}

function requester(ctx: ApiContext): Requester {
  return { actor: ctx.viewer.actor, via: ctx.viewer.kind === "user" ? "web" : "api" };
}

/** Runs a write through the request service; its refusals (limits, wrong state) become 409s a person can read. */
async function write<T>(ctx: ApiContext, fn: (requests: NonNullable<ApiContext["deps"]["requests"]>) => Promise<T>): Promise<T> {
  const requests = ctx.deps.requests;
  if (!requests) throw new WebError(503, "unavailable", "This server does not take work requests (no executor is configured).");
  try {
    return await fn(requests);
  } catch (error) {
    if (error instanceof WebError) throw error;
    if (error instanceof BacklogBotError) throw new WebError(409, "conflict", error.message);
    throw error;
  }
}

/** Every API operation, in the order the OpenAPI file lists them. */
export const routes = [
  route({
    method: "GET",
    path: "/repositories",
    operationId: "listRepositories",
    summary: "Repositories the caller may read, with open findings and tasks counted.",
    tag: "repositories",
    response: s.RepositoriesOut,
    async handle(ctx) {
      const repos = await listRepositorySummaries(ctx.deps.db, ctx.scope);
      const items = [];
      for (const r of repos) {
        const row = await findRepository(ctx.deps.db, r.fullName, ctx.scope);
        items.push({ ...r, canWrite: row ? await ctx.deps.access.canWrite(ctx.viewer, row) : false });
      }
      return { items };
    },
  }),
  route({
    method: "GET",
    path: "/repositories/{owner}/{name}/backlog",
    operationId: "getBacklog",
    summary: "The ranked backlog of a repository: each row's score breakdown, its group and its latest task.",
    tag: "repositories",
    params: s.RepoParams,
    query: s.BacklogQuery,
    response: s.BacklogOut,
    async handle(ctx) {
      const repo = await repoOrNotFound(ctx, `${ctx.params.owner}/${ctx.params.name}`);
      const offset = cursorNumber(ctx.query.cursor) ?? 0;
      const { items, total } = await backlogPage(ctx.deps.db, repo.id, {
        kind: ctx.query.kind,
        offset,
        limit: ctx.query.limit,
        now: ctx.now,
      });
      const next = offset + items.length;
      return { items, total, nextCursor: next < total ? String(next) : null };
    },
  }),
  route({
    method: "GET",
    path: "/repositories/{owner}/{name}/findings",
    operationId: "listFindings",
    summary: "Findings of a repository, newest first, by state and kind.",
    tag: "findings",
    params: s.RepoParams,
    query: s.FindingsQuery,
    response: s.FindingsOut,
    async handle(ctx) {
      const repo = await repoOrNotFound(ctx, `${ctx.params.owner}/${ctx.params.name}`);
      const rows = await listFindingsPage(ctx.deps.db, repo.id, { ...ctx.query, before: cursorNumber(ctx.query.cursor) });
      return keysetPage(rows, ctx.query.limit, (f) => findingOut(f, repo.full_name));
    },
  }),
  route({
    method: "GET",
    path: "/findings/{id}",
    operationId: "getFinding",
    summary: "One finding.",
    tag: "findings",
    params: s.IdParams,
    response: s.FindingOut,
    async handle(ctx) {
      const f = await getFindingInScope(ctx.deps.db, ctx.params.id, ctx.scope);
      if (!f) throw notFound(`Finding ${ctx.params.id}`);
      return findingOut(f, f.repository);
    },
  }),
  route({
    method: "POST",
    path: "/findings/{id}/tasks",
    operationId: "startTask",
    summary: "Start agent work on a finding (write access; the limits of `/agent fix` apply).",
    tag: "findings",
    params: s.IdParams,
    body: s.StartTaskBody,
    response: s.TaskRefOut,
    status: 201,
    async handle(ctx) {
      const f = await getFindingInScope(ctx.deps.db, ctx.params.id, ctx.scope);
      if (!f) throw notFound(`Finding ${ctx.params.id}`);
      await ctx.requireWrite(await repoOrNotFound(ctx, f.repository));
      return write(ctx, (r) =>
        r.requestTask({ findingId: f.id, agent: ctx.body.agent, instructions: ctx.body.instructions, by: requester(ctx) }),
      );
    },
  }),
  route({
    method: "POST",
    path: "/findings/{id}/dismiss",
    operationId: "dismissFinding",
    summary: "Dismiss a finding (and its group) from the backlog (write access).",
    tag: "findings",
    params: s.IdParams,
    body: s.DismissBody,
    response: s.FindingRefOut,
    async handle(ctx) {
      const f = await getFindingInScope(ctx.deps.db, ctx.params.id, ctx.scope);
      if (!f) throw notFound(`Finding ${ctx.params.id}`);
      await ctx.requireWrite(await repoOrNotFound(ctx, f.repository));
      return write(ctx, (r) => r.dismissFinding({ findingId: f.id, reason: ctx.body.reason, by: requester(ctx) }));
    },
  }),
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
