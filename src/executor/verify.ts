import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import type { Db } from "../store/db.js";
import type { Logger } from "../util/logger.js";
import { detectMasking, type MaskingFlag } from "./masking.js";
import { isTestPath } from "./masking-rules.js";
import { commandKey, getCachedBaseRun, pruneVerifyCache, putCachedBaseRun } from "./verify-cache.js";
import { type Comparison, compareRuns, type Proof, proveFix } from "./verify-compare.js";
import { planVerification, type VerifyPlan, type VerifyPlanConfig } from "./verify-detect.js";
import { runSuite, runUnsandboxed, type SuiteRun, type VerifyRunner } from "./verify-suite.js";
import { checkoutTree, gitTreeFiles, restoreTree, snapshotTree, treeChanges, treeDiff } from "./verify-tree.js";

/**
 * Verify (issue 10): the repository's own tests on the agent's change and on the base commit, the
 * anti-masking guard over the diff, and — when the change adds or edits tests — those tests run
 * against the base commit, for "fails before, passes after". A result is `passed` (the only one
 * called verified) only when the suite passed after and nothing was flagged.
 */

/** How long a cached base run is kept (ms): 14 days, longer than most pull requests stay open. */
export const CACHE_TTL_MS = 14 * 24 * 3600_000;

/** The outcome in one word. */
export type VerifyStatus =
  /** The command passed on the change, nothing flagged: verified. */
  | "passed"
  /** The command failed on the change with failures that are new, or that could not be told apart from old ones. */
  | "failed"
  /** The command failed on the change, but only with failures the base commit has too. */
  | "no_new_failures"
  /** The anti-masking guard flagged the change: never verified, whatever the tests said. */
  | "flagged"
  /** No test command is configured or detected: not verified, and said so. */
  | "none";

/** Everything a reviewer, a check run, the run row and the next round need. Plain JSON. */
export interface Verification {
  status: VerifyStatus;
  /** `status === "passed"`. */
  verified: boolean;
  /** One sentence for people, e.g. "2 new failures". */
  reason: string;
  source: VerifyPlan["source"];
  /** The command as typed (`none` when there is none). */
  command: string;
  baseSha: string;
  /** Tree id of the verified content (the agent's worktree at verify time). */
  headTree: string;
  head: SuiteRun | null;
  base: SuiteRun | null;
  /** The base run came from the cache. */
  baseCached: boolean;
  /** Failing tests told apart by identity (both runs parsed); otherwise only exit codes are compared. */
  attributed: boolean;
  newFailures: string[];
  fixedFailures: string[];
  preExistingFailures: string[];
  proof: Proof | null;
  masking: MaskingFlag[];
  /** Wall-clock time of the whole verification (ms). */
  durationMs: number;
}

/** What verify needs besides the request. */
export interface VerifyDeps {
  /** The store, for the base-run cache. */
  db: Db;
  /** How commands run; default `runUnsandboxed`. Pass `runSandboxed` (src/sandbox/run.ts) in production. */
  runner?: VerifyRunner;
  log?: Logger;
}

/** One verification. */
export interface VerifyRequest {
  repositoryId: number;
  /** The agent's worktree (changes may be uncommitted); left exactly as found. */
  worktree: string;
  /** The commit the change is measured against (the branch's base). */
  baseSha: string;
  /** The `verify` options in force, read from the default branch (never from the worktree). */
  config: VerifyPlanConfig & { timeoutS: number };
  /** A writable directory for base checkouts and private HOMEs; what verify makes there it removes. */
  scratchDir: string;
  /** Cap on each of stdout and stderr per command (bytes). */
  maxOutputBytes?: number;
  signal?: AbortSignal;
  /** Run added or changed tests against the base commit (default true). */
  proveFix?: boolean;
}

/**
 * Verifies the change in `request.worktree` against `request.baseSha`.
 * @throws CommandError when a git command fails (not when the tests fail: that is a result).
 */
export async function verifyChange(deps: VerifyDeps, request: VerifyRequest): Promise<Verification> {
  const started = Date.now();
  const runner = deps.runner ?? runUnsandboxed;
  const { worktree, baseSha } = request;
  const plan = await planVerification(request.config, await gitTreeFiles(worktree, baseSha));
  const headTree = await snapshotTree(worktree);
  const changes = await treeChanges(worktree, baseSha, headTree);
  const masking = detectMasking(await treeDiff(worktree, baseSha, headTree), changes);
  const common = { source: plan.source, command: plan.display, baseSha, headTree, masking };
  const { command } = plan;
  if (command === null) {
    return {
      ...common,
      ...compareRuns(null, null, masking),
      head: null,
      base: null,
      baseCached: false,
      proof: null,
      durationMs: Date.now() - started,
    };
  }
  const runPlan = { ...plan, command };
  await mkdir(request.scratchDir, { recursive: true });
  const scratch = await mkdtemp(path.join(request.scratchDir, "verify-"));
  const suite = async (dir: string, name: string, skipSetup = false) => {
    const home = path.join(scratch, `home-${name}`);
    await mkdir(home, { recursive: true });
    return runSuite({
      plan: runPlan,
      dir,
      home,
      runner,
      timeoutMs: request.config.timeoutS * 1000,
      skipSetup,
      ...(request.maxOutputBytes !== undefined && { maxOutputBytes: request.maxOutputBytes }),
      ...(request.signal && { signal: request.signal }),
    });
  };
  try {
    let head: SuiteRun;
    try {
      head = await suite(worktree, "head");
    } finally {
      await restoreTree(worktree, headTree); // tests write caches and reports; the change must stay the agent's
    }
    const key = commandKey(plan);
    const baseDir = path.join(scratch, "base");
    let base = await getCachedBaseRun(deps.db, request.repositoryId, baseSha, key);
    const baseCached = base !== null;
    if (!base) {
      await checkoutTree(worktree, baseSha, baseDir);
      base = await suite(baseDir, "base");
      await putCachedBaseRun(deps.db, request.repositoryId, baseSha, key, base);
      // Bases age out as branches move on; pruning here, when a new one is stored, keeps the table small without a timer.
      await pruneVerifyCache(deps.db, new Date(Date.now() - CACHE_TTL_MS).toISOString());
    }
    const comparison: Comparison = compareRuns(head, base, masking);
    const tests = changes.filter((c) => c.status !== "D" && isTestPath(c.path)).map((c) => c.path);
    let proof: Proof | null = null;
    if (request.proveFix !== false && tests.length > 0) {
      // The base commit with the change's versions of its tests: tests that fail there and pass on the change prove it.
      if (baseCached) await checkoutTree(worktree, baseSha, baseDir);
      await checkoutTree(worktree, headTree, baseDir, tests);
      const withTests = await suite(baseDir, "proof", !baseCached);
      proof = proveFix({ head, base, withTests, tests });
    }
    deps.log?.info({ status: comparison.status, baseCached, command: plan.display }, "verification finished");
    return { ...common, ...comparison, head, base, baseCached, proof, durationMs: Date.now() - started };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
