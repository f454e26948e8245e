import { writeFileSync } from "node:fs";
import path from "node:path";
import { Octokit } from "@octokit/rest";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCommandAgent } from "../../../src/executor/agents/command.js";
import { type RunEnd, runTaskSteps, type TaskRun } from "../../../src/executor/run-task.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { listRuns } from "../../../src/store/runs.js";
import { claimTask, createTask } from "../../../src/store/tasks.js";
import { testExecutorDeps } from "../../fixtures/executor-deps.js";
import { cloneBare, makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { type GitHubStub, type StubRequest, startGitHubStub } from "../../fixtures/github-stub.js";
import { nodeRepo } from "./verify-fixtures.js";

/**
 * The run pipeline with verification, on a real Node repository (npm test, node:test, a real bug
 * in `sub`), a real command agent (a node script, sandbox off) and the GitHub stub: the agent's
 * change is verified before and after, rounds continue the agent with the failure, and the
 * evidence reaches the check run, the PR body and the run rows.
 */

/** The agent: `mode` says what it does to `src/calc.js` or the tests; `round2` is what it does once the prompt carries a failure. */
const AGENT = `
import { readFileSync, writeFileSync } from "node:fs";
const [mode, round2] = process.argv.slice(2);
const prompt = readFileSync(process.env.BACKLOG_BOT_PROMPT_FILE, "utf8");
const again = prompt.includes("<verify_failure") || prompt.includes("<review");
const act = again && round2 ? round2 : mode;
const calc = { fix: "a - b", wrong: "a - b + 1", breakAdd: "a + b" };
if (act === "review") {
  writeFileSync("REVIEW_SCRATCH.md", "a reviewer's edit, to be discarded\\n");
  console.log("1. sub still adds one: subtract b from a\\n2. keep add as it is");
  process.exit(0);
}
if (act === "skip") {
  writeFileSync("test/calc.test.js", readFileSync("test/calc.test.js", "utf8").replace('test("sub"', 'test.skip("sub"'));
} else {
  const add = act === "breakAdd" ? "a * b" : "a + b";
  writeFileSync("src/calc.js", "exports.add = (a, b) => " + add + ";\\nexports.sub = (a, b) => " + calc[act] + ";\\n");
}
console.log("round " + (again ? 2 : 1) + ": did " + act);
`;

let dir: string;
let db: Db;
let stub: GitHubStub;
let prBodies: string[];
let checkRuns: Record<string, unknown>[];
let taskCounter = 0;

beforeAll(() => {
  process.env.BACKLOG_BOT_SANDBOX = "off"; // the sandbox has its own tests; this one is about the pipeline around it
});
afterAll(() => {
  delete process.env.BACKLOG_BOT_SANDBOX;
});

beforeEach(async () => {
  dir = makeTempDir();
  db = await openDb(path.join(dir, "data"));
  prBodies = [];
  checkRuns = [];
  stub = await startGitHubStub({
    "GET /repos/:owner/:repo/pulls": () => ({ body: [] }),
    "POST /repos/:owner/:repo/pulls": (req) => {
      prBodies.push((req.body as { body: string }).body);
      return { status: 201, body: { number: 7, html_url: "https://github.test/octo/calc/pull/7" } };
    },
    "GET /repos/:owner/:repo/commits/:ref/check-runs": () => ({ body: { total_count: 0, check_runs: [] } }),
    "POST /repos/:owner/:repo/check-runs": (req: StubRequest) => {
      checkRuns.push(req.body as Record<string, unknown>);
      return { status: 201, body: { id: checkRuns.length } };
    },
  });
});
afterEach(async () => {
  await db.destroy();
  await stub.close();
  removeDir(dir);
});

async function runWith(
  mode: string,
  verify: Record<string, unknown> = {},
  extra: { config?: Record<string, unknown>; agents?: Record<string, string> } = {},
): Promise<{ end: RunEnd | Error; run: TaskRun }> {
  const fixture = nodeRepo();
  const remote = cloneBare(fixture.dir);
  const script = path.join(dir, "agent.mjs");
  writeFileSync(script, AGENT);
  const repo = await upsertRepository(db, {
    fullName: `octo/calc-${++taskCounter}`,
    installationId: 1,
    cloneUrl: remote,
    defaultBranch: "main",
  });
  await db
    .updateTable("repositories")
    .set({ config: JSON.stringify({ verify, ...extra.config }) })
    .where("id", "=", repo.id)
    .execute();
  const { task } = await createTask(db, { repositoryId: repo.id, title: "sub subtracts", requestedBy: "maintainer", trigger: "cli" });
  const claimed = await claimTask(db, task.id, "worker-1", 60_000);
  const agents = new Map(
    Object.entries(extra.agents ?? { command: mode }).map(([name, how]) => [
      name,
      { ...createCommandAgent(`${process.execPath} ${script} ${how}`), name },
    ]),
  );
  const deps = testExecutorDeps({
    db,
    dataDir: path.join(dir, "data"),
    agents: { enabled: [...agents.keys()], get: (name) => agents.get(name) },
    baseUrl: stub.baseUrl,
  });
  const log = deps.log;
  const run: TaskRun = {
    deps,
    task: claimed ?? task,
    repo: { ...repo, config: JSON.stringify({ verify, ...extra.config }) },
    owner: "worker-1",
    signal: new AbortController().signal,
    log,
    github: { owner: "octo", name: "calc", octokit: new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } }) },
    branch: `backlog-bot/task-${task.id}`,
    notes: [],
  };
  const end = await runTaskSteps(run).catch((error: Error) => error);
  return { end, run };
}

describe("run pipeline with verification", () => {
  it("opens a verified PR for a fix: check run success on the pushed head, Verification section, evidence on the run row", async () => {
    const { end, run } = await runWith("fix");
    expect(end).toMatchObject({ state: "pr_open" });
    expect(checkRuns).toEqual([
      expect.objectContaining({ name: "backlog-bot / verify", head_sha: run.commitSha, status: "completed", conclusion: "success" }),
    ]);
    expect((checkRuns[0]?.output as { title: string } | undefined)?.title).toMatch(
      /^✅ Verified: npm test — the tests pass \(2 passed, 0 failed, exit 0/,
    );
    expect(prBodies[0]).toContain("### Verification");
    expect(prBodies[0]).toMatch(/✅ Verified: `npm test`/);
    expect(prBodies[0]).toMatch(/- Fixed: `test > sub`\./);
    expect(prBodies[0]).not.toContain("[!WARNING]");
    const runs = await listRuns(db, run.task.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ round: 1, verification: "passed", masking_flags: "[]" });
    expect(JSON.parse(runs[0]?.verification_detail ?? "{}")).toMatchObject({ status: "passed", command: "npm test" });
  });

  it("reports the test the agent broke as new and does not blame it for the base's failure", async () => {
    const { end } = await runWith("breakAdd", { maxRounds: 1 });
    expect(end).toMatchObject({ state: "pr_open" });
    expect(checkRuns[0]).toMatchObject({ conclusion: "failure" });
    expect(prBodies[0]).toMatch(
      /^<!-- backlog-bot:headline -->\n\n> \[!WARNING\]\n> \*\*The repository's tests do not pass with this change:\*\* 1 new failure\./,
    );
    expect(prBodies[0]).toContain("- New failures: `test > add`.");
    expect(prBodies[0]).toContain("- Failing before this change too (not caused by it): `test > sub`.");
  });

  it("flags an agent that skips the failing test: not verified, and the PR says what was flagged", async () => {
    const { end } = await runWith("skip", { maxRounds: 1 });
    expect(end).toMatchObject({ state: "pr_open" });
    expect(checkRuns[0]).toMatchObject({ conclusion: "failure" });
    expect(prBodies[0]).toContain("🚩 Not verified");
    expect(prBodies[0]).toMatch(/skip-marker in `test\/calc\.test\.js:7`/);
  });

  it("continues the agent with the failure until the tests pass: 2 rounds, one PR, both rounds on the run rows", async () => {
    const { end, run } = await runWith("wrong fix");
    expect(end).toMatchObject({ state: "pr_open" });
    const runs = await listRuns(db, run.task.id);
    expect(runs.map((r) => [r.round, r.verification])).toEqual([
      [1, "no_new_failures"], // `sub` still fails, as on the base commit: not done yet
      [2, "passed"],
    ]);
    expect(runs[1]?.summary).toContain("round 2: did fix"); // its prompt carried the failure
    expect(checkRuns).toHaveLength(1);
    expect(checkRuns[0]).toMatchObject({ conclusion: "success", head_sha: run.commitSha });
  });

  it("stops a round that makes no progress even when more rounds are allowed", async () => {
    const { end, run } = await runWith("wrong", { maxRounds: 5 });
    expect(end).toMatchObject({ state: "pr_open" });
    expect((await listRuns(db, run.task.id)).map((r) => r.round)).toEqual([1, 2]);
    expect(run.notes.join("\n")).toMatch(/round 2 made no progress \(the round changed nothing\)/);
  });

  it("opens no PR when the tests still fail and verify.onFailure is skip", async () => {
    const { end } = await runWith("breakAdd", { maxRounds: 1, onFailure: "skip" });
    expect(end).toBeInstanceOf(Error);
    expect((end as Error).message).toMatch(/did not pass after 1 round\(s\), and `verify.onFailure` is `skip`.*1 new failure/);
    expect(prBodies).toEqual([]);
    expect(checkRuns).toEqual([]);
  });

  it("runs parallel attempts in separate worktrees and keeps the verified change, saying who tried and why it won", async () => {
    const { end, run } = await runWith(
      "",
      { maxRounds: 1 },
      { config: { strategy: "parallel" }, agents: { breaker: "breakAdd", fixer: "fix" } },
    );
    expect(end).toMatchObject({ state: "pr_open", agent: "fixer" });
    expect(checkRuns[0]).toMatchObject({ conclusion: "success" });
    expect(prBodies[0]).toContain("Parallel attempts (`strategy: parallel`): kept `fixer` (verified, with the smallest diff).");
    expect(prBodies[0]).toMatch(/- `breaker`: failed, \d+ changed line\(s\)/);
    const runs = await listRuns(db, run.task.id);
    expect(runs.map((r) => [r.agent, r.verification]).sort()).toEqual([
      ["breaker", "failed"],
      ["fixer", "passed"],
    ]);
  });

  it("runs a workflow: implement, review (edits discarded), refine with the review's suggestions; the PR quotes them", async () => {
    const steps = [
      { role: "implement", agent: "impl" },
      { role: "review", agent: "reviewer", minSuggestions: 1 },
      { role: "refine", agent: "impl", stopWhenVerified: true },
    ];
    const { end, run } = await runWith(
      "",
      { maxRounds: 1 },
      { config: { workflow: "thorough", workflows: { thorough: { steps } } }, agents: { impl: "wrong fix", reviewer: "review" } },
    );
    expect(end).toMatchObject({ state: "pr_open", agent: "impl" });
    expect(checkRuns[0]).toMatchObject({ conclusion: "success" });
    expect(prBodies[0]).toContain(
      "Review 1 by `reviewer`: 2 suggestion(s).\n  1. sub still adds one: subtract b from a\n  2. keep add as it is",
    );
    const runs = await listRuns(db, run.task.id);
    expect(runs.map((r) => [r.agent, r.verification])).toEqual([
      ["impl", "no_new_failures"],
      ["reviewer", "skipped"],
      ["impl", "passed"],
    ]);
    expect(runs[2]?.summary).toContain("did fix"); // the refine step saw the review
    expect(run.diffStat).not.toContain("REVIEW_SCRATCH.md");
  });
});
