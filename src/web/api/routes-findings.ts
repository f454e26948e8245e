import { backlogPage, findRepository, getFindingInScope, listFindingsPage, listRepositorySummaries } from "../queries.js";
import { notFound, route } from "./route.js";
import { cursorNumber, repoOrNotFound, requester, write } from "./route-helpers.js";
import * as s from "./schemas.js";
import { findingOut, keysetPage } from "./shape.js";

/** Repositories, their backlog and findings, and the writes on a finding. */
export const findingRoutes = [
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
];
