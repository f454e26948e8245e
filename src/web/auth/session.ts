import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** What a signed-in person's cookie holds. The GitHub token is theirs (user-to-server), used to list what they may read. */
export interface Session {
  login: string;
  /** GitHub user access token from the OAuth web flow; never sent to the page (the cookie is HttpOnly and sealed). */
  token: string;
  /** Synchronizer token every cookie-authenticated write must echo (`_csrf` field or `x-csrf-token` header). */
  csrf: string;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
}

export const SESSION_COOKIE = "bb_session";
export const STATE_COOKIE = "bb_oauth_state";
/** Sessions last 8 hours (GitHub App user tokens expire after 8 h too: https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens). */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

/**
 * Seals and opens cookie values with AES-256-GCM: authenticated (a changed byte fails to open, so
 * the cookie is signed) and encrypted (the page cannot read the token even if it could read the cookie).
 * The key is SHA-256 of the configured secret.
 */
export class CookieSealer {
  private readonly key: Buffer;
  constructor(secret: string) {
    this.key = createHash("sha256").update(`backlog-bot session\0${secret}`).digest();
  }

  seal(value: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
  }

  /** The sealed value, or undefined when it was forged, altered or sealed with another secret. */
  open<T>(sealed: string | undefined): T | undefined {
    if (!sealed) return undefined;
    try {
      const raw = Buffer.from(sealed, "base64url");
      if (raw.length < 29) return undefined;
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
      return JSON.parse(text) as T;
    } catch {
      return undefined;
    }
  }
}

/** Cookies of a request by name (first wins), values URI-decoded. */
export function readCookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || name in out) continue;
    try {
      out[name] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // a cookie we did not write; ignore it
    }
  }
  return out;
}

/** A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when served over https; `maxAgeS` 0 deletes it. */
export function cookie(name: string, value: string, options: { maxAgeS: number; secure: boolean }): string {
  return `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${options.maxAgeS}${options.secure ? "; Secure" : ""}`;
}

/** Constant-time string equality (both sides hashed first, so lengths do not leak either). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function randomToken(): string {
  return randomBytes(24).toString("base64url");
}
