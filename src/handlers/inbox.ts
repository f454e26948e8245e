import { createHmac, type Hmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { IncomingDelivery, IntakeResult } from "../store/deliveries.js";
import type { Logger } from "../util/logger.js";
import { metrics } from "../util/metrics.js";

/**
 * GitHub caps a webhook payload at 25 MB and does not deliver larger ones
 * (https://docs.github.com/en/webhooks/webhook-events-and-payloads#payload-cap).
 */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

/**
 * Bytes of each body that never count against the shared budget (`maxBufferedBytes`): GitHub's
 * payloads are nearly all far smaller, so large bodies, hostile or not, cannot crowd them out.
 */
export const SMALL_BODY_BYTES = 1024 * 1024;

/** The webhook path Probot uses by default (and app.yml registers). */
export const WEBHOOK_PATH = "/api/github/webhooks";

/** What the inbox needs. */
export interface InboxOptions {
  secret: string;
  /** Records the delivery and its job in one write; resolves before the answer goes out. */
  intake: (delivery: IncomingDelivery) => Promise<IntakeResult>;
  /** Whether any handler wants this delivery (a pure check of the payload); unwanted ones are recorded as handled, with no job. */
  wanted?: (event: string, payload: unknown) => boolean;
  /** Called after a delivery was recorded (wakes the job worker). */
  onRecorded?: () => void;
  log: Logger;
  path?: string;
  maxBytes?: number;
  /** How long (ms) the whole body may take to arrive; default 10 s. */
  bodyTimeoutMs?: number;
  /**
   * Bytes all requests together may hold beyond each body's first `SMALL_BODY_BYTES` (default
   * `maxBytes`): without it, four 100 MB bodies at once held 4 × 25 MB before each was cut. A body
   * that would go over is refused with 413 and `Retry-After` (RFC 9110, 15.5.14: a temporary condition).
   */
  maxBufferedBytes?: number;
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
  const budget = { free: options.maxBufferedBytes ?? maxBytes };
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
    const held = { bytes: 0 };
    receive(req, res, { event, id, signature }, held)
      .catch((err: unknown) => {
        log.error({ err, deliveryId: id }, "delivery could not be recorded");
        if (!res.headersSent) answer(res, 500, { error: "could not record the delivery; GitHub may redeliver it" });
      })
      .finally(() => {
        budget.free += held.bytes;
      });
    return true;
  };

  async function receive(
    req: IncomingMessage,
    res: ServerResponse,
    headers: { event: string; id: string; signature: string },
    held: { bytes: number },
  ) {
    // The HMAC is computed as the bytes arrive, so a body whose signature fails is never copied
    // whole (Buffer.concat, a string: 3× its size with @octokit/webhooks-methods' string `verify`).
    const mac = createHmac("sha256", options.secret);
    const body = await readBody(req, maxBytes, bodyTimeoutMs, budget, held, mac);
    if (body === "too-large") return refuse(req, res, 413, `payloads over ${maxBytes} bytes are not accepted`);
    if (body === "busy") return refuse(req, res, 413, "other large payloads are being received; try again", { "retry-after": "5" });
    if (body === "timeout") return refuse(req, res, 408, "the body did not arrive in time");
    if (body === "aborted") return;
    if (!signatureMatches(mac.digest(), headers.signature)) {
      log.warn({ deliveryId: headers.id, event: headers.event }, "delivery refused: bad signature");
      return answer(res, 401, { error: "signature does not match" });
    }
    const text = Buffer.concat(body.chunks, body.size).toString("utf8");
    let payload: { action?: unknown; installation?: { id?: unknown }; repository?: { full_name?: unknown } };
    try {
      payload = JSON.parse(text);
    } catch {
      return answer(res, 400, { error: "the body is not JSON" });
    }
    if (typeof payload !== "object" || payload === null) return answer(res, 400, { error: "the body is not a JSON object" });
    const ignored = options.wanted ? !options.wanted(headers.event, payload) : false;
    const result = await options.intake({
      id: headers.id,
      event: headers.event,
      action: typeof payload.action === "string" ? payload.action : null,
      installationId: typeof payload.installation?.id === "number" ? payload.installation.id : null,
      repository: typeof payload.repository?.full_name === "string" ? payload.repository.full_name : null,
      payload: text,
      ignored,
    });
    if (ignored) metrics.deliveries.inc({ event: headers.event, outcome: "ignored" });
    else options.onRecorded?.();
    if (result === "duplicate") {
      metrics.deliveries.inc({ event: headers.event, outcome: "duplicate" });
      return answer(res, 200, { ok: true, duplicate: true });
    }
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
function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (!res.headersSent) res.writeHead(status, { "content-type": "application/json", connection: "close", ...headers });
  res.end(JSON.stringify({ error: message }), () => req.socket.destroy());
  req.pause();
}

/**
 * Whether `header` is `sha256=<hex HMAC-SHA256 of the body>`, compared in constant time, as
 * @octokit/webhooks-methods' `verify` does (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
 */
function signatureMatches(digest: Buffer, header: string): boolean {
  const expected = Buffer.from(`sha256=${digest.toString("hex")}`);
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

type BodyFailure = "too-large" | "busy" | "timeout" | "aborted";

/**
 * The body's chunks (each also fed to `mac`), or why not: over `maxBytes`, over the shared `budget`
 * (bytes past the first `SMALL_BODY_BYTES` are taken from it and added to `held`, which the caller
 * gives back), not complete within `timeoutMs`, or the client went away.
 */
function readBody(
  req: IncomingMessage,
  maxBytes: number,
  timeoutMs: number,
  budget: { free: number },
  held: { bytes: number },
  mac: Hmac,
): Promise<{ chunks: Buffer[]; size: number } | BodyFailure> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (value: { chunks: Buffer[]; size: number } | BodyFailure) => {
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
      if (size > maxBytes) return finish("too-large");
      const counted = Math.min(chunk.length, size - SMALL_BODY_BYTES);
      if (counted > 0) {
        if (counted > budget.free) return finish("busy");
        budget.free -= counted;
        held.bytes += counted;
      }
      mac.update(chunk);
      chunks.push(chunk);
    });
    req.on("end", () => finish({ chunks, size }));
    req.on("error", () => finish("aborted"));
    req.on("close", () => finish("aborted"));
  });
}
