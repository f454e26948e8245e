import { scoreFinding } from "../prioritizer/index.js";

const DAY_MS = 86_400_000;
/** Ages probed, in days: a century is "older than any cap". */
const FAR = 36_500;

let cached: number | undefined;

function todoScoreAt(days: number): number {
  const now = new Date(FAR * 2 * DAY_MS);
  const authoredAt = new Date(now.getTime() - days * DAY_MS).toISOString();
  return scoreFinding({ kind: "todo", fingerprint: "", title: "", signals: { marker: "TODO", authoredAt }, firstSeenAt: authoredAt }, now)
    .score;
}

/**
 * The age (whole days) from which a TODO's score no longer grows, found by probing the current
 * `scoreFinding` (so it follows any change to the ranking; with today's weights, about 228 days:
 * `min(24, round(3 * log2(1 + days)))` reaches 24 at 227.1 days). `Infinity` when the score keeps
 * growing with age (no cap): then the whole history must be walked.
 */
export function ageCapDays(): number {
  if (cached !== undefined) return cached;
  const top = todoScoreAt(FAR);
  let [low, high] = [0, FAR]; // score(high) === top; find the smallest such day
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (todoScoreAt(mid) === top) high = mid;
    else low = mid + 1;
  }
  cached = todoScoreAt(FAR * 2) === top ? low : Number.POSITIVE_INFINITY;
  return cached;
}

/**
 * How far back a scan at `now` walks history: one day past the age cap, so a line older than
 * the horizon scores exactly as its true age would. `undefined` when the ranking has no cap.
 */
export function attributionHorizon(now: Date): Date | undefined {
  const cap = ageCapDays();
  return Number.isFinite(cap) ? new Date(now.getTime() - (cap + 1) * DAY_MS) : undefined;
}
