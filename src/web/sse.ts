import type { IncomingMessage, ServerResponse } from "node:http";
import type { Db } from "../store/db.js";
import { IdParams } from "./api/schemas.js";
import { canRead } from "./auth/access.js";
import { subscribe, type WebEvent } from "./events.js";
import { WebError } from "./http.js";
import { watchTask } from "./task-watch.js";

/** Open streams, so shutdown can end them (an open stream would keep `server.close()` waiting forever). */
const open = new Set<ServerResponse>();

/**
 * Ends every open event stream (browsers reconnect after `retry`, to whichever process answers).
 * Call on shutdown before waiting for the HTTP server to close.
 */
export function closeEventStreams(): number {
  const count = open.size;
  for (const res of open) res.end();
  open.clear();
  return count;
}

/** Comment line sent this often (ms) so proxies keep an idle stream open. */
const HEARTBEAT_MS = 25_000;
/**
 * How often (ms) an open stream asks again what its viewer may read: `access.readable` reuses a
 * person's answer for 60 s, so a revoked access or an expired session ends the stream within about
 * two minutes, instead of never.
 */
export const ACCESS_RECHECK_MS = 60_000;
/** Streams one viewer may hold open at once (a browser holds one per open task or repository page). */
export const MAX_STREAMS_PER_VIEWER = 20;
const streamsOf = new Map<string, number>();

/** Who an event stream is for: what they may read, asked again every `ACCESS_RECHECK_MS`, and when their session ends. */
export interface StreamViewer {
  actor: string;
  readable: () => Promise<Set<string> | "all">;
  /** Epoch ms the session expires; absent for the API token. */
  expiresAt?: number;
}

/**
 * A server-sent-events stream (https://html.spec.whatwg.org/multipage/server-sent-events.html) of
 * the bus's events the viewer may read, optionally only one task's (`?task=ID`, which also follows
 * that task in the store: see `watchTask`, so the page updates when another process runs it).
 * Each event is `event: <type>` with the JSON as `data`. Ends when the client goes away, when the
 * session expires, or when the viewer can no longer read the task's repository.
 * @param recheckMs how often (ms) access is asked again (default `ACCESS_RECHECK_MS`).
 * @throws WebError before anything is written: 400 `invalid_request` when `task` is not a task id,
 *   404 `not_found` when the viewer cannot read that task (or it does not exist), 429
 *   `too_many_requests` past `MAX_STREAMS_PER_VIEWER` open streams.
 */
export async function serveEvents(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  viewer: StreamViewer,
  db?: Db,
  recheckMs = ACCESS_RECHECK_MS,
): Promise<void> {
  const taskParam = url.searchParams.get("task");
  const task = taskParam === null ? undefined : IdParams.safeParse({ id: taskParam });
  if (task && !task.success) throw new WebError(400, "invalid_request", "task must be a task id.");
  const taskId = task?.data?.id;
  let readable = await viewer.readable();
  const taskRepository =
    taskId !== undefined && db
      ? await db
          .selectFrom("tasks")
          .innerJoin("repositories", "repositories.id", "tasks.repository_id")
          .select("repositories.full_name")
          .where("tasks.id", "=", taskId)
          .executeTakeFirst()
          .then((r) => r?.full_name)
      : undefined;
  if (taskId !== undefined && db && (taskRepository === undefined || !canRead(readable, taskRepository)))
    throw new WebError(404, "not_found", `Task ${taskId} was not found, or you cannot see it.`);
  if ((streamsOf.get(viewer.actor) ?? 0) >= MAX_STREAMS_PER_VIEWER)
    throw new WebError(429, "too_many_requests", `@${viewer.actor} has ${MAX_STREAMS_PER_VIEWER} event streams open; close some pages.`);
  streamsOf.set(viewer.actor, (streamsOf.get(viewer.actor) ?? 0) + 1);
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.write("retry: 3000\n: connected\n\n");
  // Bus and store watch may both report a state: send each state (and PR link) once.
  let lastTask = "";
  const send = (event: WebEvent) => {
    if (taskId !== undefined && event.taskId !== taskId) return;
    if (!canRead(readable, event.repository)) return;
    if (event.type === "task") {
      const key = `${event.state}\0${event.prUrl ?? ""}`;
      if (key === lastTask) return;
      lastTask = key;
    }
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  };
  const watch = taskId !== undefined && db ? watchTask(db, taskId, send) : undefined;
  const unsubscribe = subscribe((event: WebEvent) => {
    if (event.type === "transcript" && event.taskId === taskId) watch?.sawBusTranscript(event.runId);
    send(event);
  });
  const heartbeat = setInterval(() => res.write(": ping\n\n"), HEARTBEAT_MS);
  heartbeat.unref();
  const recheck = setInterval(() => {
    if (viewer.expiresAt !== undefined && viewer.expiresAt <= Date.now()) {
      res.end();
      return;
    }
    viewer
      .readable()
      .then((now) => {
        readable = now;
        if (taskRepository !== undefined && !canRead(now, taskRepository)) res.end();
      })
      .catch(() => {}); // GitHub unreachable: keep the last answer until the next check
  }, recheckMs);
  recheck.unref();
  open.add(res);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    clearInterval(recheck);
    unsubscribe();
    watch?.stop();
    open.delete(res);
    const left = (streamsOf.get(viewer.actor) ?? 1) - 1;
    if (left > 0) streamsOf.set(viewer.actor, left);
    else streamsOf.delete(viewer.actor);
  };
  req.on("close", close);
  res.on("close", close);
  res.on("error", close);
}
