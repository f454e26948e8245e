import type { FindingKind } from "../store/schema.js";
import { WEIGHTS } from "./weights.js";

/** How one of the bot's past tasks in this repository ended. */
export type TaskOutcomeKind = "merged" | "closed" | "failed" | "no_changes";

/** One past task, as the ranking sees it: what kind of finding, where, and how it ended. */
export interface OutcomeRecord {
  kind: FindingKind;
  /** Repo-relative path of the finding, when it had one. */
  path?: string | null;
  outcome: TaskOutcomeKind;
}

/** The factor one finding earns from history, with the words for its breakdown. */
export interface OutcomeFactor {
  /** Multiplier in `[WEIGHTS.outcomes.min, WEIGHTS.outcomes.max]`; 1 when there is no history. */
  factor: number;
  reason: string;
}

interface Tally {
  merged: number;
  closed: number;
  failed: number;
  no_changes: number;
}

/** The path area a finding belongs to: its top-level directory (`src/`), or `/` for files at the root. */
export function pathArea(path: string | null | undefined): string | undefined {
  if (!path) return undefined;
  const slash = path.indexOf("/");
  return slash < 0 ? "/" : path.slice(0, slash + 1);
}

function net(t: Tally): number {
  const w = WEIGHTS.outcomes;
  return t.merged * w.merged + t.closed * w.closed + t.failed * w.failed + t.no_changes * w.no_changes;
}

function total(t: Tally): number {
  return t.merged + t.closed + t.failed + t.no_changes;
}

/** `1 + swing * net / (tasks + prior)`: shrinks toward 1 while there are few tasks. */
function dimension(t: Tally | undefined): number {
  return t ? 1 + (WEIGHTS.outcomes.swing * net(t)) / (total(t) + WEIGHTS.outcomes.prior) : 1;
}

function describe(t: Tally): string {
  const parts = (["merged", "closed", "failed", "no_changes"] as const)
    .filter((k) => t[k] > 0)
    .map((k) => `${t[k]} ${k.replace("_", "-")}`);
  return parts.join(", ");
}

/**
 * Builds the outcome-feedback lookup from a repository's task history (merged raises, closed
 * unmerged lowers, failed or no-change lowers a little; weights in `WEIGHTS.outcomes`). Each finding
 * kind and each path area earns its own factor; a finding's factor is their product, clamped.
 * Pure. Returns `undefined` for a finding with no history behind it (no breakdown part then).
 */
export function outcomeFactors(history: readonly OutcomeRecord[]): (kind: FindingKind, path?: string | null) => OutcomeFactor | undefined {
  const byKind = new Map<FindingKind, Tally>();
  const byArea = new Map<string, Tally>();
  const tally = (map: Map<string, Tally>, key: string, outcome: TaskOutcomeKind) => {
    const t = map.get(key) ?? { merged: 0, closed: 0, failed: 0, no_changes: 0 };
    t[outcome]++;
    map.set(key, t);
  };
  for (const record of history) {
    tally(byKind as Map<string, Tally>, record.kind, record.outcome);
    const area = pathArea(record.path);
    if (area) tally(byArea, area, record.outcome);
  }
  const cache = new Map<string, OutcomeFactor | undefined>();
  return (kind, path) => {
    const area = pathArea(path);
    const key = `${kind}\0${area ?? ""}`;
    if (cache.has(key)) return cache.get(key);
    const k = byKind.get(kind);
    const a = area ? byArea.get(area) : undefined;
    let result: OutcomeFactor | undefined;
    if (k || a) {
      const { min, max } = WEIGHTS.outcomes;
      const factor = Math.min(max, Math.max(min, dimension(k) * dimension(a)));
      const words = [k && `${kind} tasks: ${describe(k)}`, a && `tasks in ${area}: ${describe(a)}`].filter(Boolean).join("; ");
      result = { factor, reason: `×${factor.toFixed(2)} from past outcomes (${words})` };
    }
    cache.set(key, result);
    return result;
  };
}
