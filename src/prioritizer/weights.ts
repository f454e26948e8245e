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
  /**
   * A group of identical findings ("add test" ×277) gains `perDoubling` points per doubling of its
   * count, up to `max`: one fix pattern applied many times is worth a little more than one site.
   */
  repeated: { perDoubling: 2, max: 10 },
  /**
   * Code someone else maintains (vendored trees, `linguist-vendored`): fixed upstream, not here.
   * Large enough to put it below every first-party finding (a first-party TODO scores at least 10).
   */
  vendored: -60,
  /**
   * Outcome feedback (see outcomes.ts): each merged task counts +1, closed unmerged -1, failed or
   * no-change -0.5; a dimension's factor is `1 + swing * net / (tasks + prior)`, so a few tasks move it
   * little, and the product of the kind and path-area factors is clamped to `[min, max]`.
   */
  outcomes: { merged: 1, closed: -1, failed: -0.5, no_changes: -0.5, swing: 0.3, prior: 2, min: 0.6, max: 1.5 },
} as const;
