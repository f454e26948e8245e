import type { FindingKind } from "../store/schema.js";

/**
 * The ranking's numbers, in one place so the README and tests can cite them. Points are unitless;
 * only their order matters. Reasoning: a red default branch blocks everyone, so it outranks
 * everything; a labelled issue is work a person asked for; a stale issue is a question someone is
 * waiting on; a TODO is work the code's author knew about.
 */
export const WEIGHTS = {
  kind: { failing_check: 60, issue: 40, stale_issue: 25, todo: 10 } satisfies Record<FindingKind, number>,
  /** Defect markers (FIXME, BUG) outrank shortcut markers (HACK, XXX), which outrank plans (TODO). */
  marker: { BUG: 15, FIXME: 15, HACK: 10, XXX: 8, TODO: 4 } as Record<string, number>,
  /** Age adds `perDoubling` points per doubling of age in days, up to `max`. */
  age: { perDoubling: 3, max: 24 },
  reactions: { each: 2, max: 16 },
  comments: { each: 1, max: 10 },
  /** Labels that say how much a person cares (lower-cased). */
  labels: { security: 30, bug: 15, regression: 15, "priority: high": 15, "help wanted": 4, "good first issue": 2 } as Record<
    string,
    number
  >,
  /** A check that failed and then passed on the same commit is likely flaky: still worth fixing, less urgent. */
  flaky: -35,
} as const;
