import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import type { Repository } from "../../store/schema.js";
import type { Viewer } from "../auth/access.js";
import type { WebDeps } from "../deps.js";
import { decodePathSegment, WebError } from "../http.js";
import type { RepoScope } from "../queries.js";

/** What a route handler gets: validated input, the viewer and what they may read. */
export interface ApiContext<P = Record<string, unknown>, Q = Record<string, unknown>, B = Record<string, unknown>> {
  deps: WebDeps;
  req: IncomingMessage;
  res: ServerResponse;
  viewer: Viewer;
  readable: Set<string> | "all";
  scope: RepoScope;
  params: P;
  query: Q;
  body: B;
  now: Date;
  /** @throws WebError 403 unless the viewer may act on `repo` (write, maintain or admin). */
  requireWrite(repo: Repository): Promise<void>;
}

/** One API operation: its shapes (for validation and the OpenAPI file) and its handler. */
export interface ApiRoute {
  method: "GET" | "POST";
  /** OpenAPI-style path under /api/v1, e.g. `/tasks/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodObject;
  response: z.ZodType;
  /** Success status; 200 by default. */
  status?: number;
  /** Returns the response body (validated in tests against `response`). */
  handle(ctx: ApiContext): Promise<unknown>;
}

/** Typed route definition helper: infers the handler's input types from the schemas. */
export function route<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodObject>(
  def: Omit<ApiRoute, "handle" | "params" | "query" | "body"> & {
    params?: P;
    query?: Q;
    body?: B;
    handle(ctx: ApiContext<z.output<P>, z.output<Q>, z.output<B>>): Promise<unknown>;
  },
): ApiRoute {
  return def as ApiRoute;
}

export const notFound = (what: string): WebError => new WebError(404, "not_found", `${what} was not found, or you cannot see it.`);

/** Compiles `/tasks/{id}` into a matcher returning the raw path parameters. */
export function compilePath(path: string): (pathname: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  const regex = new RegExp(`^/api/v1${pattern}$`);
  return (pathname) => {
    const m = regex.exec(pathname);
    if (!m) return undefined;
    const out: Record<string, string> = {};
    names.forEach((name, i) => {
      out[name] = decodePathSegment(m[i + 1] ?? "");
    });
    return out;
  };
}
