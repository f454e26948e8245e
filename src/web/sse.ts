import type { IncomingMessage, ServerResponse } from "node:http";
import { canRead } from "./auth/access.js";
import { subscribe, type WebEvent } from "./events.js";

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
 * the bus's events the viewer may read, optionally only one task's (`?task=ID`). Each event is
 * `event: <type>` with the JSON as `data`. Ends when the client goes away.
 */
export function serveEvents(req: IncomingMessage, res: ServerResponse, url: URL, readable: Set<string> | "all"): void {
  const taskParam = url.searchParams.get("task");
  const taskId = taskParam && /^\d+$/.test(taskParam) ? Number(taskParam) : undefined;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.write("retry: 3000\n: connected\n\n");
  const unsubscribe = subscribe((event: WebEvent) => {
    if (taskId !== undefined && event.taskId !== taskId) return;
    if (!canRead(readable, event.repository)) return;
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  });
  const heartbeat = setInterval(() => res.write(": ping\n\n"), HEARTBEAT_MS);
  heartbeat.unref();
  open.add(res);
  const close = () => {
    clearInterval(heartbeat);
    unsubscribe();
    open.delete(res);
  };
  req.on("close", close);
  res.on("close", close);
  res.on("error", close);
}
