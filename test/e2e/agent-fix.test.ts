import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GitHubStub } from "../fixtures/github-stub.js";
import { type Backend, backends } from "../support/backends.js";
import {
  CANARY_TOKEN,
  calls,
  deliver,
  git,
  handled,
  makeRemote,
  type Payload,
  payload,
  query,
  type ServerProcess,
  startServer,
  startStub,
  usePostgres,
  WEBHOOK_SECRET,
  waitFor,
} from "./harness.js";

/**
 * The server's store on `backend` (issue 13): SQLite in `dataDir` as before; on PostgreSQL a fresh
 * database, passed as `DATABASE_URL` and read by `query`/`handled`, dropped by `remove()`.
 */
async function serverStore(backend: Backend, dataDir: string): Promise<{ env: Record<string, string>; remove(): Promise<void> }> {
  if (backend.name === "sqlite") return { env: {}, remove: async () => undefined };
  const store = await backend.fresh({ cleanup: false });
  const databaseUrl = store.databaseUrl as string;
  usePostgres(dataDir, databaseUrl);
  return { env: { DATABASE_URL: databaseUrl }, remove: store.remove };
}

interface TaskRow {
  id: number;
  state: string;
  issue_number: number;
  pr_number: number | null;
  branch: string | null;
  agent: string;
  requested_by: string;
}

/** The whole path on 127.0.0.1: signed webhook -> real server -> task -> agent -> push -> draft PR. */
describe.each(backends())("/agent fix, end to end on $name", (backend) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-e2e-"));
  const dataDir = path.join(dir, "data");
  const record = path.join(dir, "record");
  let remote: string;
  let stub: GitHubStub;
  let server: ServerProcess;
  let store: Awaited<ReturnType<typeof serverStore>> | undefined;

  beforeAll(async () => {
    store = await serverStore(backend, dataDir);
    remote = makeRemote(dir, { "greet.js": 'export const greet = () => console.log("Hello world");\n', "README.md": "# widgets\n" });
    const agent = path.join(dir, "agent.mjs");
    // The agent records what it was given (stdin, prompt file, environment, git config) where the test can read it.
    writeFileSync(
      agent,
      `import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
const record = ${JSON.stringify(record)};
mkdirSync(record, { recursive: true });
const prompt = readFileSync(0, "utf8");
writeFileSync(record + "/prompt.txt", prompt);
writeFileSync(record + "/prompt-file.txt", readFileSync(process.env.BACKLOG_BOT_PROMPT_FILE, "utf8"));
writeFileSync(record + "/env.json", JSON.stringify(process.env));
writeFileSync(record + "/git-config.txt", execFileSync("git", ["config", "--list", "--show-origin"], { encoding: "utf8" }));
writeFileSync(record + "/cwd.txt", process.cwd());
await new Promise((r) => setTimeout(r, 1500));
writeFileSync("greet.js", readFileSync("greet.js", "utf8").replace("Hello world", "Hello, world!"));
console.log("Changed greet.js: the greeting now reads Hello, world!");
`,
    );
    stub = await startStub({ maintainer: "maintain", reader: "read" });
    // This agent records what it was given outside its worktree, which the sandbox forbids (the
    // sandbox has its own tests: test/integration/sandbox, test/e2e/sandboxed-agents); here the
    // pipeline around the agent is under test.
    server = await startServer(stub, dataDir, {
      BACKLOG_BOT_AGENT_COMMAND: `${process.execPath} ${agent}`,
      BACKLOG_BOT_SANDBOX: "off",
      ...store.env,
    });
  });

  afterAll(async () => {
    await server?.stop();
    if (process.env.E2E_LOG) writeFileSync(process.env.E2E_LOG, server?.output() ?? "");
    await stub?.close();
    await store?.remove();
  });

  const tasks = () => query<TaskRow>(dataDir, "select * from tasks order by id");
  const withRemote = (p: Payload) => {
    p.repository.clone_url = `file://${remote}`;
  };

  it("refuses a bad signature with an error status and stores nothing", async () => {
    const response = await deliver(server, "issue_comment", payload("issue_comment.created", withRemote), { secret: "wrong-secret" });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(query(dataDir, "select * from deliveries where id = ?", response.id)).toEqual([]);
    expect(tasks()).toEqual([]);
  });

  it("answers a user with read permission with a refusal and creates no task", async () => {
    const body = payload("issue_comment.created", (p) => {
      withRemote(p);
      p.comment.user.login = "reader";
      p.sender.login = "reader";
    });
    const response = await deliver(server, "issue_comment", body);
    expect(response.status).toBe(202);
    expect((await handled(dataDir, response.id)).status).toBe("processed");
    const reply = calls(stub, "POST", /\/issues\/42\/comments$/).at(-1)?.body as { body: string };
    expect(reply.body).toMatch(/only people with write, maintain or admin permission/);
    expect(reply.body).toContain("@reader has read permission");
    expect(tasks()).toEqual([]);
  });

  it("turns a maintainer's /agent fix into a draft PR, once, with no token anywhere", async () => {
    const body = payload("issue_comment.created", withRemote);
    const first = await deliver(server, "issue_comment", body);
    expect(first.status).toBe(202);
    await handled(dataDir, first.id);
    // The same delivery again (GitHub's redelivery of a handled one: a no-op), and a second request while the first task runs.
    expect((await deliver(server, "issue_comment", body, { id: first.id })).status).toBe(200);
    const again = await deliver(
      server,
      "issue_comment",
      payload("issue_comment.created", (p) => {
        withRemote(p);
        p.comment.id = 3002;
      }),
    );
    expect(again.status).toBe(202);

    const task = await waitFor(() => tasks().find((t) => t.state === "pr_open" || t.state === "failed"), 60_000, "the task to finish");
    expect(task.state).toBe("pr_open");
    expect(tasks()).toHaveLength(1);
    expect(task).toMatchObject({ issue_number: 42, requested_by: "maintainer", agent: "command", pr_number: 7 });
    expect(query(dataDir, "select id from deliveries where id = ?", first.id)).toHaveLength(1);

    // The reaction and the queued comment, and the refusal of the twin request.
    expect(calls(stub, "POST", /\/issues\/comments\/3001\/reactions$/)).toHaveLength(1);
    const commentBodies = () => calls(stub, "POST", /\/issues\/42\/comments$/).map((r) => (r.body as { body: string }).body);
    await waitFor(() => (commentBodies().some((c) => c.includes("/pull/7")) ? true : undefined), 10_000, "the PR link comment");
    await handled(dataDir, again.id);
    const comments = commentBodies();
    expect(comments.filter((c) => c.startsWith(`Queued task #${task.id}`))).toHaveLength(1);
    expect(comments.some((c) => c.includes(`Task #${task.id} for this issue is already`))).toBe(true);
    expect(comments.some((c) => c.includes("https://github.com/octo-org/widgets/pull/7"))).toBe(true);

    // The branch with the agent's change arrived in the remote.
    expect(task.branch).toBe("backlog-bot/issue-42-greeting-is-missing-punctuation");
    const pushed = git(remote, "show", `${task.branch}:greet.js`);
    expect(pushed).toContain("Hello, world!");
    expect(git(remote, "log", "-1", "--format=%an <%ae>%n%B", task.branch ?? "")).toMatch(
      /^backlog-bot\[bot\] <4242\+backlog-bot\[bot\]@users\.noreply\.github\.com>\n.*\(#42\)[\s\S]*Fixes #42/,
    );
    expect(git(remote, "rev-parse", "main").trim()).toBe(git(remote, "rev-parse", `${task.branch}~1`).trim());

    // The draft PR.
    const [pr] = calls(stub, "POST", /\/repos\/octo-org\/widgets\/pulls$/);
    const prBody = pr?.body as { draft: boolean; head: string; base: string; body: string; title: string };
    expect(prBody).toMatchObject({ draft: true, head: task.branch, base: "main" });
    expect(prBody.body).toContain("Fixes #42");
    expect(prBody.body).toContain("Changed greet.js: the greeting now reads Hello, world!");
    expect(prBody.body).toContain("Keep the change small.");

    // The agent got the prompt on stdin and in the file, ran in the worktree, and saw an allowlisted environment.
    const prompt = readFileSync(path.join(record, "prompt.txt"), "utf8");
    expect(prompt).toContain("it should print `Hello, world!`");
    expect(readFileSync(path.join(record, "prompt-file.txt"), "utf8")).toBe(prompt);
    // Each attempt has a worktree of its own: task-<id>-<attempt>.
    expect(readFileSync(path.join(record, "cwd.txt"), "utf8")).toBe(path.join(dataDir, "worktrees", `task-${task.id}-1`));
    const agentEnv = JSON.parse(readFileSync(path.join(record, "env.json"), "utf8")) as Record<string, string>;
    for (const name of ["APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET", "GHE_HOST", "BACKLOG_BOT_GIT_TOKEN", "GITHUB_TOKEN"])
      expect(agentEnv).not.toHaveProperty(name);

    // The worktree is removed once the task ends.
    await waitFor(() => (existsSync(path.join(dataDir, "worktrees", `task-${task.id}-1`)) ? undefined : true), 10_000, "worktree removal");

    // The canary token (the installation token the stub minted) and the webhook secret appear nowhere.
    const everywhere = [
      readFileSync(path.join(record, "env.json"), "utf8"),
      readFileSync(path.join(record, "git-config.txt"), "utf8"),
      server.output(),
      ...filesUnder(dataDir).map((f) => readFileSync(f, "latin1")),
    ];
    expect(server.output()).toContain("task state changed");
    for (const text of everywhere) {
      expect(text).not.toContain(CANARY_TOKEN);
      expect(text).not.toContain(WEBHOOK_SECRET);
    }
    // It was minted and used: the stub saw it as the API credential.
    expect(stub.requests.some((r) => r.headers.authorization === `token ${CANARY_TOKEN}`)).toBe(true);
  });

  it("moves the task to merged when its pull request is merged", async () => {
    const response = await deliver(server, "pull_request", payload("pull_request.closed"));
    expect(response.status).toBe(202);
    expect((await handled(dataDir, response.id)).status).toBe("processed");
    expect(tasks()[0]?.state).toBe("merged");
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** An agent that hangs (and forks a child that would outlive it) is killed at the timeout; the task fails and says why. */
describe.each(backends())("/agent fix with an agent that hangs on $name", (backend) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-e2e-hang-"));
  const dataDir = path.join(dir, "data");
  const pidFile = path.join(dir, "child.pid");
  let stub: GitHubStub;
  let server: ServerProcess;
  let store: Awaited<ReturnType<typeof serverStore>> | undefined;

  beforeAll(async () => {
    store = await serverStore(backend, dataDir);
    const remote = makeRemote(dir, { "README.md": "# widgets\n" });
    const agent = path.join(dir, "hang.sh");
    writeFileSync(agent, `#!/bin/sh\nsleep 600 &\necho $! > ${pidFile}\necho "thinking..."\nwait\n`, { mode: 0o755 });
    stub = await startStub({ maintainer: "write" });
    server = await startServer(stub, dataDir, {
      BACKLOG_BOT_AGENT_COMMAND: agent,
      BACKLOG_BOT_AGENT_TIMEOUT_S: "1",
      BACKLOG_BOT_SANDBOX: "off",
      ...store.env,
    });
    await deliver(
      server,
      "issue_comment",
      payload("issue_comment.created", (p) => {
        p.repository.clone_url = `file://${remote}`;
      }),
    );
  });
  afterAll(async () => {
    await server?.stop();
    await stub?.close();
    await store?.remove();
  });

  it("kills the agent's process tree and ends the task failed with the reason on the issue", async () => {
    const task = await waitFor(
      () => query<{ state: string; error: string }>(dataDir, "select * from tasks where state not in ('queued', 'running')")[0],
      30_000,
      "the task to end",
    );
    expect(task.state).toBe("failed");
    expect(task.error).toMatch(/`command` timed out: timed out after 1 s; its process tree was killed/);
    const pid = Number(readFileSync(pidFile, "utf8"));
    await waitFor(() => (isAlive(pid) ? undefined : true), 10_000, "the agent's child to be killed");
    await waitFor(
      () =>
        calls(stub, "POST", /\/issues\/42\/comments$/).some((r) =>
          (r.body as { body: string }).body.includes("failed: `command` timed out"),
        )
          ? true
          : undefined,
      10_000,
      "the failure comment",
    );
    expect(calls(stub, "POST", /\/pulls$/)).toEqual([]);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
