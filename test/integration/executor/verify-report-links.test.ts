/**
 * JUnit reports are removed and read by the host, in folders the tested code can write: the
 * worktree (Maven's `target/surefire-reports`) and the run's HOME (`verify-reports`). A folder on
 * the way replaced by a symbolic link must make the host neither delete nor read through it: the
 * link's target can be another tenant's worktree, hidden from the sandbox, and the report's test
 * names go into the check run and the PR. Real files and real commands (`runUnsandboxed`: the
 * removal and the reading happen on the host whatever runs the command).
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { VerifyPlan } from "../../../src/executor/verify-detect.js";
import { runSuite, runUnsandboxed } from "../../../src/executor/verify-suite.js";
import { symlinkOnPath } from "../../../src/util/confined-files.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

const secret = (name: string) =>
  `<testsuite name="com.other.Secret"><testcase classname="com.other.Secret" name="${name}"><failure/></testcase></testsuite>`;
const passing = `<testsuite name="com.ours.Ok"><testcase classname="com.ours.Ok" name="works"/></testsuite>`;

/** A worktree, a HEAD, and a folder outside both (another tenant's) holding reports and a marker. */
function setup() {
  const root = makeTempDir("backlog-bot-report-links-");
  dirs.push(root);
  const worktree = path.join(root, "wt");
  const home = path.join(root, "home");
  const outside = path.join(root, "other-tenant");
  mkdirSync(worktree);
  mkdirSync(home);
  mkdirSync(path.join(outside, "surefire-reports"), { recursive: true });
  writeFileSync(path.join(outside, "surefire-reports", "TEST-x.xml"), secret("leaks_internal_name"));
  writeFileSync(path.join(outside, "surefire-reports", "marker"), "keep\n");
  writeFileSync(path.join(outside, "junit.xml"), secret("leaks_from_home"));
  return { worktree, home, outside };
}

function plan(command: string[], junit: VerifyPlan["junit"]): VerifyPlan & { command: string[] } {
  return { source: "detected", setup: [], command, display: "test", allowedHosts: [], junit };
}
const maven = { kind: "dir", dir: "target/surefire-reports" } as const;

function suite(command: string[], junit: VerifyPlan["junit"], where: { worktree: string; home: string }) {
  return runSuite({ plan: plan(command, junit), dir: where.worktree, home: where.home, runner: runUnsandboxed, timeoutMs: 30_000 });
}

function expectUntouched(outside: string) {
  expect(readFileSync(path.join(outside, "surefire-reports", "marker"), "utf8")).toBe("keep\n");
  expect(existsSync(path.join(outside, "surefire-reports", "TEST-x.xml"))).toBe(true);
  expect(existsSync(path.join(outside, "junit.xml"))).toBe(true);
}

describe("JUnit reports behind a symbolic link", () => {
  it("a `target` the agent linked outside the worktree is neither emptied nor read", async () => {
    const where = setup();
    symlinkSync(where.outside, path.join(where.worktree, "target"));
    const run = await suite(["sh", "-c", "echo ran"], maven, where);
    expectUntouched(where.outside);
    expect(JSON.stringify(run.report)).not.toContain("leaks_internal_name");
    expect(run.tail).toContain("test reports not read: target in the worktree is a symbolic link");
  });

  it("a `target` the tested code links outside while it runs is not read", async () => {
    const where = setup();
    mkdirSync(path.join(where.worktree, "target", "surefire-reports"), { recursive: true });
    const run = await suite(["sh", "-c", `rm -rf target && ln -s '${where.outside}' target`], maven, where);
    expectUntouched(where.outside);
    expect(JSON.stringify(run.report)).not.toContain("leaks_internal_name");
    expect(run.tail).toContain("target in the worktree is a symbolic link");
  });

  it("a report file linked outside is not read (O_NOFOLLOW), its real neighbours are", async () => {
    const where = setup();
    const script = `mkdir -p target/surefire-reports && ln -s '${where.outside}/surefire-reports/TEST-x.xml' target/surefire-reports/TEST-a.xml && printf '%s' '${passing}' > target/surefire-reports/TEST-b.xml`;
    const run = await suite(["sh", "-c", script], maven, where);
    expect(run.report).toEqual({ format: "junit", passed: 1, failed: 0, skipped: 0, failures: [] });
  });

  it("$HOME/verify-reports replaced by a link is not read, and a link left there before the run is removed, not followed", async () => {
    const where = setup();
    symlinkSync(where.outside, path.join(where.home, "verify-reports")); // left by a setup step
    const script = `rm -rf "$HOME/verify-reports" && ln -s '${where.outside}' "$HOME/verify-reports" && echo "$1"`;
    const run = await suite(["sh", "-c", script, "sh"], { kind: "file", args: (file) => [file] }, where);
    expectUntouched(where.outside);
    expect(JSON.stringify(run.report)).not.toContain("leaks_from_home");
    expect(run.tail).toContain("test reports not read: verify-reports in $HOME is a symbolic link");
  });
});

describe("JUnit reports in real folders", () => {
  it("Maven's reports are read, and an earlier round's are removed first", async () => {
    const where = setup();
    mkdirSync(path.join(where.worktree, "target", "surefire-reports"), { recursive: true });
    writeFileSync(path.join(where.worktree, "target", "surefire-reports", "TEST-old.xml"), secret("stale"));
    const script = `mkdir -p target/surefire-reports && printf '%s' '${passing}' > target/surefire-reports/TEST-ok.xml`;
    const run = await suite(["sh", "-c", script], maven, where);
    expect(run.report).toEqual({ format: "junit", passed: 1, failed: 0, skipped: 0, failures: [] });
    expect(run.tail).not.toContain("backlog-bot");
  });

  it("a report file written under $HOME is read", async () => {
    const where = setup();
    const run = await suite(["sh", "-c", `printf '%s' '${passing}' > "$1"`, "sh"], { kind: "file", args: (file) => [file] }, where);
    expect(run.report).toEqual({ format: "junit", passed: 1, failed: 0, skipped: 0, failures: [] });
  });
});

describe("symlinkOnPath", () => {
  it("names the first linked folder, ends at a missing one, and refuses a path out of the root", async () => {
    const where = setup();
    mkdirSync(path.join(where.worktree, "real", "deeper"), { recursive: true });
    symlinkSync(where.outside, path.join(where.worktree, "real", "link"));
    expect(await symlinkOnPath(where.worktree, "real/deeper")).toBeNull();
    expect(await symlinkOnPath(where.worktree, "real/link/surefire-reports")).toBe("real/link");
    expect(await symlinkOnPath(where.worktree, "missing/x")).toBeNull();
    expect(await symlinkOnPath(where.worktree, "../other-tenant")).toBe("../other-tenant");
    expect(await symlinkOnPath(where.worktree, "/etc")).toBe("/etc");
  });
});
