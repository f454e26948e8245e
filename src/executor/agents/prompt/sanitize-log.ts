import { redactSecrets } from "../../../util/logger.js";
import { sanitizeCode } from "./sanitize.js";

/**
 * Cap on a CI log excerpt in a prompt (bytes of UTF-8): about 2k tokens, enough for the failing
 * step's error and its stack; the checks scanner already keeps only a log's last 30 lines.
 */
export const CI_LOG_MAX_BYTES = 8 * 1024;
/**
 * Cap on a verification round's failure output (bytes of UTF-8): about 4k tokens. Test runners
 * (vitest, jest, pytest, go test, cargo) print the failing tests and the summary last, so the
 * tail is what is kept.
 */
export const VERIFY_OUTPUT_MAX_BYTES = 16 * 1024;

/** Terminal escape sequences: CSI (colours, cursor moves, erase), OSC (titles, hyperlinks), and two-byte escapes. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes start with ESC; finding them is the point.
const ANSI = /\u001B\[[0-?]*[ -/]*[@-~]|\u001B\][^\u0007\u001B]*(?:\u0007|\u001B\\)?|\u001B[@-Z\\-_]|\u009B[0-?]*[ -/]*[@-~]/g;
/** The timestamp GitHub Actions writes before each log line. */
const ACTIONS_TIMESTAMP = /^\d{4}-\d\d-\d\dT[\d:.]+Z /gm;

/**
 * The last `maxBytes` bytes of `text` (UTF-8, never splitting a character), with a line saying
 * that earlier output was cut. The result is at most `maxBytes` bytes long.
 */
export function tailBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  const note = "[... earlier output cut]\n";
  let start = bytes.length - (maxBytes - Buffer.byteLength(note));
  // Skip UTF-8 continuation bytes, so the slice starts on a character boundary.
  while (start < bytes.length && ((bytes[start] as number) & 0xc0) === 0x80) start++;
  return note + bytes.subarray(start).toString("utf8");
}

/**
 * Makes tool output (a CI log, a test run's output) safe to show a model, keeping at most the last
 * `maxBytes` bytes: terminal escapes go (a colour or an erase can hide text from the person
 * reading the log), so do carriage-return overwrites (only what a terminal finally shows stays),
 * Actions timestamps, invisible and bidi characters, and token-shaped or registered secrets.
 * Logs are not Markdown: nothing else is removed.
 */
export function sanitizeLog(text: string, maxBytes: number): string {
  const plain = text
    .replace(ANSI, "")
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) => line.slice(line.lastIndexOf("\r") + 1))
    .join("\n")
    .replace(ACTIONS_TIMESTAMP, "");
  return tailBytes(redactSecrets(sanitizeCode(plain)).trimEnd(), maxBytes);
}
