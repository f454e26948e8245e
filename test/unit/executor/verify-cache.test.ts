import { describe, expect, it } from "vitest";
import { commandKey, getCachedBaseRun, pruneVerifyCache, putCachedBaseRun } from "../../../src/executor/verify-cache.js";
import type { VerifyPlan } from "../../../src/executor/verify-detect.js";
import type { SuiteRun } from "../../../src/executor/verify-suite.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { backends } from "../../support/backends.js";

const plan: VerifyPlan = { source: "detected", setup: [], command: ["npm", "test"], display: "npm test", allowedHosts: [], junit: null };
const failing: SuiteRun = {
  exitCode: 1,
  timedOut: false,
  failedStep: "command",
  durationMs: 9000,
  report: { format: "tap", passed: 3, failed: 1, skipped: 0, failures: ["sub"] },
  tail: "not ok 2 - sub",
};

describe("commandKey", () => {
  it("changes with the command, the setup and the report arguments", () => {
    const key = commandKey(plan);
    expect(commandKey({ ...plan })).toBe(key);
    expect(commandKey({ ...plan, command: ["npm", "run", "test:ci"] })).not.toBe(key);
    expect(commandKey({ ...plan, setup: [["npm", "ci"]] })).not.toBe(key);
    expect(commandKey({ ...plan, junit: { kind: "file", args: (f) => [`--junitxml=${f}`] } })).not.toBe(key);
    expect(commandKey({ ...plan, display: "something else", source: "config" })).toBe(key); // only what runs counts
  });
});

describe.each(backends())("verify cache on $name", (backend) => {
  it("stores a base run per repository, base SHA and command, and replaces it on a second put", async () => {
    const { db } = await backend.fresh();
    const repo = (await upsertRepository(db, { fullName: "octo/calc" })).id;
    const other = (await upsertRepository(db, { fullName: "octo/other" })).id;
    const key = commandKey(plan);
    expect(await getCachedBaseRun(db, repo, "sha1", key)).toBeNull();
    await putCachedBaseRun(db, repo, "sha1", key, failing);
    expect(await getCachedBaseRun(db, repo, "sha1", key)).toEqual(failing);
    expect(await getCachedBaseRun(db, repo, "sha2", key)).toBeNull();
    expect(await getCachedBaseRun(db, other, "sha1", key)).toBeNull();
    expect(await getCachedBaseRun(db, repo, "sha1", commandKey({ ...plan, command: ["make", "test"] }))).toBeNull();
    const passing = { ...failing, exitCode: 0, failedStep: null, report: null };
    await putCachedBaseRun(db, repo, "sha1", key, passing);
    expect(await getCachedBaseRun(db, repo, "sha1", key)).toEqual(passing);
  });

  it("never caches a run that timed out, failed its setup or could not start", async () => {
    const { db } = await backend.fresh();
    const repo = (await upsertRepository(db, { fullName: "octo/calc" })).id;
    const key = commandKey(plan);
    await putCachedBaseRun(db, repo, "a", key, { ...failing, timedOut: true, exitCode: null });
    await putCachedBaseRun(db, repo, "b", key, { ...failing, failedStep: "setup" });
    await putCachedBaseRun(db, repo, "c", key, { ...failing, exitCode: null });
    for (const sha of ["a", "b", "c"]) expect(await getCachedBaseRun(db, repo, sha, key)).toBeNull();
  });

  it("prunes entries older than a time", async () => {
    const { db } = await backend.fresh();
    const repo = (await upsertRepository(db, { fullName: "octo/calc" })).id;
    await putCachedBaseRun(db, repo, "old", "k", failing);
    const cutoff = new Date(Date.now() + 1000).toISOString();
    expect(await pruneVerifyCache(db, cutoff)).toBe(1);
    expect(await getCachedBaseRun(db, repo, "old", "k")).toBeNull();
  });
});
