import { BacklogBotError } from "../../util/errors.js";
import type { Requester } from "../deps.js";
import { WebError } from "../http.js";
import { findRepository } from "../queries.js";
import { type ApiContext, notFound } from "./route.js";

/** The number a list cursor holds (validated as digits by the schema). */
export const cursorNumber = (cursor: string | undefined): number | undefined => (cursor === undefined ? undefined : Number(cursor));

/** The repository if the caller may read it. @throws WebError 404 otherwise. */
export async function repoOrNotFound(ctx: ApiContext, fullName: string) {
  const repo = await findRepository(ctx.deps.db, fullName, ctx.scope);
  if (!repo) throw notFound(`Repository ${fullName}`);
  return repo;
}

/** Who asks, for the request service and the audit log. */
export function requester(ctx: ApiContext): Requester {
  return { actor: ctx.viewer.actor, via: ctx.viewer.kind === "user" ? "web" : "api" };
}

/** Runs a write through the request service; its refusals (limits, wrong state) become 409s a person can read. */
export async function write<T>(ctx: ApiContext, fn: (requests: NonNullable<ApiContext["deps"]["requests"]>) => Promise<T>): Promise<T> {
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
