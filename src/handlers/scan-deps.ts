import type { Scheduler } from "../scheduler/scheduler.js";
import type { HandlerDeps } from "./types.js";

/**
 * Handler dependencies with the scheduler, which owns the per-installation queues that slow work
 * (mirror fetches, scans, log downloads) goes to. main.ts passes it in the deps given to `createApp`.
 */
export type ScanHandlerDeps = HandlerDeps & { scheduler?: Scheduler };

/** The scheduler from the deps, if main.ts provided one. */
export function schedulerOf(deps: HandlerDeps): Scheduler | undefined {
  return (deps as ScanHandlerDeps).scheduler;
}
