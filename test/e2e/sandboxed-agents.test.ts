import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GitHubStub } from "../fixtures/github-stub.js";
import {
  calls,
  deliver,
  git,
  makeRemote,
  payload,
  query,
  type ServerProcess,
  startServer,
  startStub,
  WEBHOOK_SECRET,
  waitFor,
} from "./harness.js";

/**
 * Issue 11 end to end: the real server (`node dist/main.js`, sandbox on by default) runs a command
 * agent that probes its confinement and then does its job. The probes' findings come back as the
 * agent's summary in the PR body; the edit is pushed; nothing the agent left running survives.
 */
describe("/agent fix with the agent inside the sandbox", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-e2e-sandbox-"));
  const dataDir = path.join(dir, "data");
  const secret = path.join(dir, "operator-secret.txt");
  const marker = `300.${String(Math.random()).slice(2, 10)}`;
  let remote: string;
  let stub: GitHubStub;
  let server: ServerProcess;

  beforeAll(async () => {
    remote = makeRemote(dir, { "greet.js": 'export const greet = () => console.log("Hello world");\n' });
    writeFileSync(secret, "operator-secret-value\n");
    const agent = path.join(dir, "agent.mjs");
    writeFileSync(
      agent,
      `#!/usr/bin/env node
import { spawn } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
const attempt = (name, fn) => { try { fn(); return name + ": READ"; } catch (e) { return name + ": " + e.code; } };
const environs = readdirSync("/proc").filter((p) => /^\\d+$/.test(p)).filter((p) => { try { return readFileSync("/proc/" + p + "/environ", "utf8").includes(${JSON.stringify(WEBHOOK_SECRET)}); } catch { return false; } });
const findings = [
  "webhook secret in /proc: " + (environs.length ? "FOUND" : "none"),
  attempt("store", () => readFileSync(${JSON.stringify(path.join(dataDir, "backlog-bot.sqlite"))})),
  attempt("operator secret", () => readFileSync(${JSON.stringify(secret)})),
  attempt("git file", () => writeFileSync(".git", "gitdir: /tmp/elsewhere\\n")),
];
const common = readFileSync(".git", "utf8").match(/gitdir: (.*)\\/worktrees\\//)[1];
findings.push(attempt("mirror config", () => appendFileSync(common + "/config", "[core]\\n\\thooksPath = /tmp\\n")));
spawn("sleep", [${JSON.stringify(marker)}], { detached: true, stdio: "ignore" }).unref();
writeFileSync("greet.js", readFileSync("greet.js", "utf8").replace("Hello world", "Hello, world!"));
console.log(findings.join("\\n"));
`,
      { mode: 0o755 },
    );
    stub = await startStub({ maintainer: "maintain" });
    server = await startServer(stub, dataDir, { BACKLOG_BOT_AGENT_COMMAND: agent });
  });

  afterAll(async () => {
    await server?.stop();
    await stub?.close();
  });

  it("the agent's probes all fail, its edit becomes the PR, and nothing it started is left", async () => {
    const body = payload("issue_comment.created", (p) => {
      p.repository.clone_url = `file://${remote}`;
    });
    expect((await deliver(server, "issue_comment", body)).status).toBeLessThan(300);
    const task = await waitFor(
      () =>
        query<{ state: string; error: string | null; branch: string }>(
          dataDir,
          "select * from tasks where state not in ('queued', 'running')",
        )[0],
      120_000,
      "task end",
    );
    expect(task.state, `${task.error}\n${server.output().slice(-3000)}`).toBe("pr_open");
    const [pr] = calls(stub, "POST", /\/pulls$/);
    const prBody = (pr?.body as { body: string } | undefined)?.body ?? "";
    expect(prBody).toContain("webhook secret in /proc: none");
    expect(prBody).toContain("store: ENOENT");
    expect(prBody).toContain("operator secret: ENOENT");
    expect(prBody).toContain("git file: EROFS");
    expect(prBody).toContain("mirror config: EROFS");
    expect(git(remote, "show", `${task.branch}:greet.js`)).toContain("Hello, world!");
    const leftovers = readdirSync("/proc").filter((p) => {
      try {
        return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").includes(marker);
      } catch {
        return false;
      }
    });
    expect(leftovers).toEqual([]);
  });
});
