import type { IncomingMessage, ServerResponse } from "node:http";
import { verify } from "@octokit/webhooks-methods";
import type { IncomingDelivery, IntakeResult } from "../store/deliveries.js";
import type { Logger } from "../util/logger.js";

/**
 * GitHub caps a webhook payload at 25 MB and does not deliver larger ones
 * (https://docs.github.com/en/webhooks/webhook-events-and-payloads#payload-cap).
 */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

/** The webhook path Probot uses by default (and app.yml registers). */
export const WEBHOOK_PATH = "/api/github/webhooks";

/** What the inbox needs. */
export interface InboxOptions {
  secret: string;
  /** Records the delivery and its job in one write; resolves before the answer goes out. */
  intake: (delivery: IncomingDelivery) => Promise<IntakeResult>;
  /** Called after a delivery was recorded (wakes the job worker). */
  onRecorded?: () => void;
  log: Logger;
  path?: string;
  maxBytes?: number;
  /** How long (ms) the whole body may take to arrive; default 10 s. */
  bodyTimeoutMs?: number;
}

/**
 * The webhook route: verify, record, answer — nothing else on the request path (DESIGN.md, "The
 * loop"). The body is read as a stream with a byte cap (a `Content-Length` over it is refused with
 * 413 before anything is read; a stream that grows past it is cut off), within a time limit (a slow
 * body is dropped with 408 and nothing recorded), and its HMAC-SHA256 signature checked in constant
 * time (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries) before a
 * byte of it is parsed. A verified delivery is answered `202 Accepted` once its row and its job are
 * written; a redelivery of a handled one gets `200` and changes nothing.
 * @returns a request handler that says whether it answered the request.
 */
export function createWebhookInbox(options: InboxOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const path = options.path ?? WEBHOOK_PATH;
  const maxBytes = options.maxBytes ?? MAX_WEBHOOK_BYTES;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
  const { log } = options;

  return (req, res) => {
    const url = req.url ?? "/";
    const pathname = url.split("?", 1)[0];
    if (pathname !== path) return false;
    if (req.method !== "POST") {
      answer(res, 405, { error: "use POST" }, { Allow: "POST" });
      return true;
    }
    const event = header(req, "x-github-event");
    const id = header(req, "x-github-delivery");
    const signature = header(req, "x-hub-signature-256");
    if (!event || !id || !signature) {
      refuse(req, res, 400, "missing X-GitHub-Event, X-GitHub-Delivery or X-Hub-Signature-256");
      return true;
    }
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBytes) {
      refuse(req, res, 413, `payloads over ${maxBytes} bytes are not accepted`);
      return true;
    }
    receive(req, res, { event, id, signature }).catch((err: unknown) => {
      log.error({ err, deliveryId: id }, "delivery could not be recorded");
      if (!res.headersSent) answer(res, 500, { error: "could not record the delivery; GitHub may redeliver it" });
    });
    return true;
  };

  async function receive(req: IncomingMessage, res: ServerResponse, headers: { event: string; id: string; signature: string }) {
    const body = await readBody(req, maxBytes, bodyTimeoutMs);
    if (body === "too-large") return refuse(req, res, 413, `payloads over ${maxBytes} bytes are not accepted`);
    if (body === "timeout") return refuse(req, res, 408, "the body did not arrive in time");
    if (body === "aborted") return;
    const text = body.toString("utf8");
    if (!(await verify(options.secret, text, headers.signature).catch(() => false))) {
      log.warn({ deliveryId: headers.id, event: headers.event }, "delivery refused: bad signature");
      return answer(res, 401, { error: "signature does not match" });
    }
    let payload: { action?: unknown; installation?: { id?: unknown }; repository?: { full_name?: unknown } };
    try {
      payload = JSON.parse(text);
    } catch {
      return answer(res, 400, { error: "the body is not JSON" });
    }
    if (typeof payload !== "object" || payload === null) return answer(res, 400, { error: "the body is not a JSON object" });
    const result = await options.intake({
      id: headers.id,
      event: headers.event,
      action: typeof payload.action === "string" ? payload.action : null,
      installationId: typeof payload.installation?.id === "number" ? payload.installation.id : null,
      repository: typeof payload.repository?.full_name === "string" ? payload.repository.full_name : null,
      payload: text,
    });
    options.onRecorded?.();
    if (result === "duplicate") return answer(res, 200, { ok: true, duplicate: true });
    answer(res, 202, { ok: true });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" && value.length > 0 && value.length <= 200 ? value : undefined;
}

function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

/** Answers and closes the connection without reading (the rest of) the body. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  if (!res.headersSent) res.writeHead(status, { "content-type": "application/json", connection: "close" });
  res.end(JSON.stringify({ error: message }), () => req.socket.destroy());
  req.pause();
}

/** The body, or why not: over `maxBytes`, not complete within `timeoutMs`, or the client went away. */
function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer | "too-large" | "timeout" | "aborted"> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (value: Buffer | "too-large" | "timeout" | "aborted") => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.removeAllListeners("data");
      if (typeof value === "string") chunks.length = 0;
      resolve(value);
    };
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish("too-large");
      else chunks.push(chunk);
    });
    req.on("end", () => finish(Buffer.concat(chunks, size)));
    req.on("error", () => finish("aborted"));
    req.on("close", () => finish("aborted"));
  });
}
