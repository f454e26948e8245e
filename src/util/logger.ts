import pino, { type Logger } from "pino";

export type { Logger };

/**
 * Matches token-shaped strings: GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_), JWTs,
 * OpenAI-style `sk-` keys and Slack tokens. Source for the GitHub prefixes:
 * https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/
 * The GitHub prefixes need no word boundary before them: in a URL-encoded credential
 * (`x-access-token%3Aghs_…`) the token follows a letter or digit. The others keep theirs (`sk-`
 * would otherwise match inside words such as `task-…`). PEM private keys are `redactPem`'s.
 */
export const TOKEN_PATTERN =
  /(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{22,255})\b|\b(?:eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|sk-[A-Za-z0-9_-]{20,}|xox[abpr]-[A-Za-z0-9-]{10,})\b/g;

/** The first and last line of a PEM private key. */
const PEM_MARK = /-----(BEGIN|END) [A-Z ]*PRIVATE KEY-----/g;

/** A line of a PEM key's body: base64, 64 characters a line and fewer on the last (RFC 7468). */
const PEM_BODY_LINE = /^[A-Za-z0-9+/=]+\r?$/;

/**
 * Where the key lines right before an END line at `end` start (`end` when there are none), no
 * earlier than `floor`: walked back a line at a time, never by a backtracking expression.
 */
function keyLinesBefore(text: string, floor: number, end: number): number {
  let from = end;
  while (from > floor && text.charCodeAt(from - 1) === 10) {
    const start = Math.max(floor, text.lastIndexOf("\n", from - 2) + 1);
    if (!PEM_BODY_LINE.test(text.slice(start, from - 1))) break;
    from = start;
  }
  return from;
}

/**
 * Replaces each PEM private key, from its BEGIN line to the next END line, with `[REDACTED]`; a
 * key with no END line (output cut short) is redacted to the end of the text, and one with no
 * BEGIN line (a tail of some output, cut inside the key) from the body lines before its END line.
 * One pass over the markers: the former `BEGIN[\s\S]*?END` expression searched the rest of the text from every
 * BEGIN, so 1 MB of BEGIN lines (an agent's stderr) held the process for seconds.
 */
function redactPem(text: string): string {
  if (!text.includes("PRIVATE KEY-----")) return text;
  let out = "";
  let copied = 0;
  let open = -1;
  for (const mark of text.matchAll(PEM_MARK)) {
    if (mark[1] === "BEGIN") {
      if (open < 0) open = mark.index;
    } else if (open >= 0) {
      out += `${text.slice(copied, open)}[REDACTED]`;
      copied = mark.index + mark[0].length;
      open = -1;
    } else {
      const from = keyLinesBefore(text, copied, mark.index);
      if (from < mark.index) {
        out += `${text.slice(copied, from)}[REDACTED]`;
        copied = mark.index + mark[0].length;
      }
    }
  }
  if (open >= 0) return `${out}${text.slice(copied, open)}[REDACTED]`;
  return out + text.slice(copied);
}

/**
 * An `Authorization`-style value: `Bearer x` / `token x`. The whitespace is bounded (a look-behind
 * with `\s+` rescans long whitespace runs at every position: seconds on hostile input).
 */
const AUTH_VALUE = /\b(Bearer|token)([ \t]{1,8})[A-Za-z0-9._~+/-]{16,}=*/g;

/** Replaces every token-shaped substring and PEM private key with `[REDACTED]` (keeping an `Authorization` scheme word). */
export function redact(text: string): string {
  return redactPem(text).replace(TOKEN_PATTERN, "[REDACTED]").replace(AUTH_VALUE, "$1$2[REDACTED]");
}

/**
 * Extra values to redact wherever they appear, registered at run time (an installation token the
 * moment it is minted, the webhook secret, the private key). Token shapes change; exact values don't.
 */
const secrets = new Set<string>();
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 8) secrets.add(value);
}
export function redactSecrets(text: string): string {
  let out = redact(text);
  for (const secret of secrets) out = out.split(secret).join("[REDACTED]");
  return out;
}

/**
 * The app's logger: pino, JSON lines on stdout, every string value passed through `redactSecrets`.
 * Probot's own logger is created from this one, so its lines are redacted too.
 */
export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? "info",
      name: "backlog-bot",
      hooks: {
        streamWrite: (line) => redactSecrets(line),
      },
    },
    options.destination ?? pino.destination(1),
  );
}
