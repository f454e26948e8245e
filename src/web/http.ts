import type { IncomingMessage, ServerResponse } from "node:http";
import { BacklogBotError } from "../util/errors.js";

/**
 * A refusal with its HTTP status: 400 invalid input, 401 not signed in, 403 not allowed, 404 not
 * found (also what a person without read access gets, so private names do not leak), 409 conflict,
 * 413 body too large. `issues` carries zod's field paths for 400s.
 */
export class WebError extends BacklogBotError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly issues?: Array<{ path: string; message: string }>,
  ) {
    super("WEB_REQUEST_REFUSED", message);
  }
}

/**
 * One percent-encoded path segment, decoded.
 * @throws WebError 400 `invalid_path` for a malformed escape (`%E0%A4%A`): the client's mistake, not a server error.
 */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new WebError(400, "invalid_path", "The path holds a malformed percent-escape.");
  }
}

/** Security headers on every response of the web layer; scripts only from this origin (no inline script). */
const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(html);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": contentType, "cache-control": "no-store" });
  res.end(text);
}

export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { ...SECURITY_HEADERS, location, ...headers });
  res.end();
}

/** Largest request body accepted (bytes): writes carry a few short fields. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads a JSON or `application/x-www-form-urlencoded` body (an empty body is `{}`).
 * @throws WebError 413 over `MAX_BODY_BYTES`, 400 for malformed JSON, 415 for another content type.
 */
export async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new WebError(413, "body_too_large", `The request body is over ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text.trim()) return {};
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type === "application/x-www-form-urlencoded") return Object.fromEntries(new URLSearchParams(text));
  if (type === "application/json" || !type) {
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // fall through to the refusal below
    }
    throw new WebError(400, "invalid_json", "The request body is not a JSON object.");
  }
  throw new WebError(415, "unsupported_media_type", "Send the body as application/json or application/x-www-form-urlencoded.");
}

/** Whether the client asked for HTML (a browser form post) rather than JSON. */
export function wantsHtml(req: IncomingMessage): boolean {
  return (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
}

/** True when the request came over TLS, directly or through a proxy that says so. */
export function isHttps(req: IncomingMessage): boolean {
  const forwarded = String(req.headers["x-forwarded-proto"] ?? "")
    .split(",")[0]
    ?.trim();
  return forwarded === "https" || Boolean((req.socket as { encrypted?: boolean }).encrypted);
}
