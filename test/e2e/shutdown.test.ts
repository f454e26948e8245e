import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { GitHubStub } from "../fixtures/github-stub.js";
import { deliver, handled, makeRemote, payload, query, type ServerProcess, startServer, startStub, waitFor } from "./harness.js";

/** Issue 12: SIGTERM while a task runs: the process exits within its bound and the task is not lost. */
describe("SIGTERM during a running task", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-e2e-sigterm-"));
  const dataDir = path.join(dir, "data");
  const started = path.join(dir, "started");
  let stub: GitHubStub;
  let server: ServerProcess | undefined;

  afterAll(async () => {
    await server?.stop();
    await stub?.close();
  });

  it("stops the agent, requeues the task, exits within the grace period, and the next start finishes it", async () => {
    const remote = makeRemote(dir, { "greet.js": "Hello world\n" });
    // The first run hangs (it would run for 10 minutes); the run after the restart edits and ends.
    const agent = path.join(dir, "agent.sh");
    writeFileSync(
      agent,
      `#!/bin/sh\nif [ ! -e ${started} ]; then touch ${started}; sleep 600; fi\necho 'Hello, world!' > greet.js\necho done\n`,
      { mode: 0o755 },
    );
    stub = await startStub({ maintainer: "write" });
    // The agent marks its first start outside its worktree, which the sandbox forbids.
    const env = { BACKLOG_BOT_AGENT_COMMAND: agent, BACKLOG_BOT_SANDBOX: "off" };
    server = await startServer(stub, dataDir, env);
    // With the sandbox off, /health says so (and the start-up log warned).
    expect(await (await fetch(`${server.url}/health`)).json()).toMatchObject({ status: "ok", sandbox: { mode: "off" } });
    expect(server.output()).toContain("BACKLOG_BOT_SANDBOX=off");
    const body = payload("issue_comment.created", (p) => {
      p.repository.clone_url = `file://${remote}`;
    });
    const { id } = await deliver(server, "issue_comment", body);
    await handled(dataDir, id);
    await waitFor(() => (existsSync(started) ? true : undefined), 30_000, "the agent to start");
    expect(query<{ state: string }>(dataDir, "select state from tasks")).toEqual([{ state: "running" }]);

    const before = Date.now();
    await server.stop(); // one SIGTERM, then waits for the exit
    const elapsedMs = Date.now() - before;
    // The default grace is 20 s; an interrupted agent is stopped at once, so it is well within.
    expect(elapsedMs).toBeLessThan(20_000);
    expect(server.output(), server.output().slice(-2000)).toContain('"msg":"stopped"');
    expect(query<{ state: string; attempts: number }>(dataDir, "select state, attempts from tasks")).toEqual([
      { state: "queued", attempts: 1 },
    ]);

    server = await startServer(stub, dataDir, env);
    const task = await waitFor(
      () =>
        query<{ state: string; pr_number: number | null }>(
          dataDir,
          "select state, pr_number from tasks where state not in ('queued', 'running')",
        )[0],
      60_000,
      "the task to end after the restart",
    );
    expect(task).toEqual({ state: "pr_open", pr_number: 7 });
  });
});
