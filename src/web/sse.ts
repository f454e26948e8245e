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
 * A server-sent-events stream (https://html.spec.whatwg.org/multipage/server-sent-events.html) of
 * the bus's events the viewer may read, optionally only one task's (`?task=ID`, which also follows that task in the store: see
 * `watchTask`, so the page updates when another process runs it). Each event is
 * `event: <type>` with the JSON as `data`. Ends when the client goes away.
 * @throws WebError 400 `invalid_request` when `task` is given but is not a task id (before anything is written).
 */
export function serveEvents(req: IncomingMessage, res: ServerResponse, url: URL, readable: Set<string> | "all", db?: Db): void {
  const taskParam = url.searchParams.get("task");
  const task = taskParam === null ? undefined : IdParams.safeParse({ id: taskParam });
  if (task && !task.success) throw new WebError(400, "invalid_request", "task must be a task id.");
  const taskId = task?.data?.id;
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
  open.add(res);
  const close = () => {
    clearInterval(heartbeat);
    unsubscribe();
    watch?.stop();
    open.delete(res);
  };
  req.on("close", close);
  res.on("close", close);
  res.on("error", close);
}
