import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitHubStub, startGitHubStub } from "../fixtures/github-stub.js";
import { CANARY_TOKEN, calls, deliver, makeRemote, type Payload, query, type ServerProcess, startServer, waitFor } from "./harness.js";

/** One delivery to send: the event name (X-GitHub-Event), its payload, and where it came from. */
interface Sample {
  event: string;
  payload: Payload;
  source: string;
}

/**
 * Every example of `@octokit/webhooks-examples` (api.github.com and each GHES version), the same
 * payload text sent once: 404 distinct examples of 58 events in version 7.6.1.
 */
function corpus(): Sample[] {
  const root = path.dirname(createRequire(import.meta.url).resolve("@octokit/webhooks-examples/package.json"));
  const seen = new Set<string>();
  const samples: Sample[] = [];
  for (const flavour of readdirSync(root).filter((d) => d === "api.github.com" || d.startsWith("ghes-"))) {
    const groups = JSON.parse(readFileSync(path.join(root, flavour, "index.json"), "utf8")) as { name: string; examples: Payload[] }[];
    for (const group of groups) {
      group.examples.forEach((example, i) => {
        const hash = createHash("sha256")
          .update(`${group.name}\n${JSON.stringify(example)}`)
          .digest("hex");
        if (seen.has(hash)) return;
        seen.add(hash);
        samples.push({ event: group.name, payload: structuredClone(example), source: `${flavour}/${group.name}#${i}` });
      });
    }
  }
  return samples;
}

/** A port nothing listens on: a clone URL there is refused at connect. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * The whole `@octokit/webhooks-examples` corpus, signed and sent over HTTP to the real server
 * (`node dist/main.js`), with a GitHub API stub on which every corpus clone URL fails (HTTP 500 on
 * the smart-HTTP discovery, or a refused connection). Plus three deliveries that are not in the
 * corpus, as controls that the failing paths were really reached: a push whose clone works (the marker
 * comment it adds must be found), and `/agent help` from an admin and from a non-collaborator (each answered).
 */
describe("the @octokit/webhooks-examples corpus against the real server", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "backlog-bot-corpus-"));
  const dataDir = path.join(dir, "data");
  const samples = corpus();
  let stub: GitHubStub;
  let server: ServerProcess;
  let refused: string;
  const sent: { id: string; status: number; sample: Sample }[] = [];

  beforeAll(async () => {
    const remote = makeRemote(dir, { "src/todo.ts": "// TODO: corpus control finding\nexport const x = 1;\n" });
    refused = `http://127.0.0.1:${await closedPort()}`;
    stub = await startGitHubStub({
      "POST /app/installations/:id/access_tokens": () => ({
        status: 201,
        body: { token: CANARY_TOKEN, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: {} },
      }),
      "GET /repos/:owner/:repo/collaborators/:user/permission": (req) =>
        req.params.user === "Codertocat"
          ? { body: { permission: "admin", role_name: "admin", user: { login: "Codertocat" } } }
          : { status: 404, body: { message: "Not Found" } },
      // No repository has a `.github/backlog-bot.yml`: the defaults apply.
      "GET /repos/:owner/:repo/contents/.github/backlog-bot.yml": () => ({ status: 404, body: { message: "Not Found" } }),
      "GET /repos/:owner/:repo/issues/:number/comments": () => ({ body: [] }),
      "POST /repos/:owner/:repo/issues/:number/comments": (req) => ({
        status: 201,
        body: { id: Math.floor(Math.random() * 1e6), body: (req.body as { body: string }).body },
      }),
      "POST /repos/:owner/:repo/issues/comments/:id/reactions": () => ({ status: 201, body: { id: 1, content: "eyes" } }),
      // Repositories known only from installation events are looked up before a scan.
      "GET /repos/:owner/:repo": (req) => ({
        body: { clone_url: `${stub.url}/git-500/${req.params.owner}/${req.params.repo}.git`, default_branch: "main" },
      }),
      "GET /repos/:owner/:repo/check-suites/:id/check-runs": () => ({ body: { total_count: 0, check_runs: [] } }),
      "GET /repos/:owner/:repo/actions/runs/:id/jobs": () => ({ body: { total_count: 0, jobs: [] } }),
      // git's smart-HTTP discovery on the stub fails: the server's clone of those repositories fails.
      "GET /git-500/:owner/:repo/info/refs": () => ({ status: 500, body: { message: "clone refused by the test" } }),
    });
    // Every clone URL of the corpus goes to a failing place (never to github.com): 500 from the
    // stub or a refused connection, alternately.
    samples.forEach((sample, i) => {
      const repository = sample.payload.repository;
      if (!repository || typeof repository.clone_url !== "string") return;
      const [owner, repo] = String(repository.full_name).split("/");
      repository.clone_url = i % 2 === 0 ? `${stub.url}/git-500/${owner}/${repo}.git` : `${refused}/${owner}/${repo}.git`;
    });
    // Controls (not corpus examples): a push whose clone works, and two `/agent help` comments.
    const basePush = samples.find((s) => s.event === "push" && s.payload.ref === "refs/heads/master");
    const baseComment = samples.find((s) => s.event === "issue_comment" && s.payload.action === "created" && s.payload.installation);
    if (!basePush || !baseComment) throw new Error("the corpus lacks a push to master or an issue_comment.created");
    const workingPush = structuredClone(basePush.payload);
    // Another repository, so another GitHub id: one id under two names is a rename, and the app follows it.
    workingPush.repository.id = 4_000_000_001;
    workingPush.repository.full_name = "ada/todo-demo";
    workingPush.repository.name = "todo-demo";
    workingPush.repository.owner.login = "ada";
    workingPush.repository.clone_url = `file://${remote}`;
    workingPush.repository.default_branch = "main";
    workingPush.ref = "refs/heads/main";
    const help = (login: string) => {
      const p = structuredClone(baseComment.payload);
      p.comment.body = "/agent help";
      p.comment.user.login = login;
      p.comment.user.type = "User";
      return p;
    };
    samples.push(
      { event: "push", payload: workingPush, source: "control/push-working-clone" },
      { event: "issue_comment", payload: help("Codertocat"), source: "control/help-admin" },
      { event: "issue_comment", payload: help("stranger"), source: "control/help-non-collaborator" },
    );

    server = await startServer(stub, dataDir, { LOG_LEVEL: "info" });
    // Eight at a time, as a busy installation's deliveries overlap.
    let next = 0;
    const worker = async () => {
      while (next < samples.length) {
        const sample = samples[next++] as Sample;
        const { id, status } = await deliver(server, sample.event, sample.payload, { id: randomUUID() });
        sent.push({ id, status, sample });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await waitFor(
      () =>
        query<{ n: number }>(dataDir, "select count(*) as n from deliveries where status = 'received'")[0]?.n === 0 ? true : undefined,
      120_000,
      "every delivery to be handled",
    );
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    await stub?.close();
    if (process.env.E2E_LOG) writeFileSync(process.env.E2E_LOG, server?.output() ?? "");
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = () =>
    query<{ id: string; status: string; error: string | null; event: string; attempts: number }>(dataDir, "select * from deliveries");
  const byId = (id: string) => rows().find((r) => r.id === id);
  const sentAs = (source: string) => sent.find((s) => s.sample.source === source)?.id ?? "";

  it("sends the whole corpus (hundreds of examples of every event)", () => {
    expect(samples.length).toBeGreaterThan(400);
    expect(new Set(samples.map((s) => s.event)).size).toBeGreaterThanOrEqual(58);
    expect(sent).toHaveLength(samples.length);
  });

  it("answers every delivery 2xx and keeps running", async () => {
    const bad = sent.filter((s) => s.status < 200 || s.status > 299).map((s) => `${s.sample.source}: ${s.status}`);
    expect(bad).toEqual([]);
    expect(() => process.kill(server.pid, 0)).not.toThrow();
    const ping = await fetch(`${server.url}/ping`);
    expect(ping.status).toBe(200);
  });

  it("records every delivery once, none left received", () => {
    const all = rows();
    expect(all).toHaveLength(sent.length);
    expect(new Set(all.map((r) => r.id))).toEqual(new Set(sent.map((s) => s.id)));
    expect(all.filter((r) => r.status !== "processed" && r.status !== "failed")).toEqual([]);
    // Handled once: a processed delivery was finished by exactly one attempt of its job, or (when no
    // handler wants it) recorded as handled by the inbox with no job at all.
    expect(all.filter((r) => r.status === "processed" && r.attempts > 1)).toEqual([]);
    expect(all.filter((r) => r.status === "processed" && r.attempts === 0).length).toBeGreaterThan(0);
    // No delivery job waits or runs but for failed deliveries' retries.
    const pending = query<{ payload: string }>(
      dataDir,
      "select payload from jobs where kind = 'delivery' and state in ('waiting', 'running')",
    );
    const failed = new Set(all.filter((r) => r.status === "failed").map((r) => r.id));
    expect(pending.filter((j) => !failed.has((JSON.parse(j.payload) as { deliveryId: string }).deliveryId))).toEqual([]);
  });

  it("logs no unhandled rejection", () => {
    expect(server.output()).not.toMatch(/unhandled rejection/i);
  });

  it("tried the failing clones, and the failure is a recorded failure, not a crash", async () => {
    expect(calls(stub, "GET", /^\/git-500\/Codertocat\/Hello-World\.git\/info\/refs$/).length).toBeGreaterThan(0);
    const pushes = sent.filter((s) => s.sample.event === "push" && s.sample.payload.ref === "refs/heads/master");
    expect(pushes.length).toBeGreaterThan(0);
    for (const push of pushes) {
      const row = byId(push.id);
      expect(row?.status, push.sample.source).toBe("failed");
      expect(row?.error ?? "", push.sample.source).toMatch(/git|clone|fetch/i);
    }
  });

  it("handles the controls: a working clone's TODO is found, /agent help is answered to both", async () => {
    expect(byId(sentAs("control/push-working-clone"))?.status).toBe("processed");
    const findings = query<{ title: string }>(dataDir, "select title from findings where kind = 'todo'");
    expect(findings.map((f) => f.title).join("\n")).toContain("corpus control finding");
    expect(byId(sentAs("control/help-admin"))?.status).toBe("processed");
    expect(byId(sentAs("control/help-non-collaborator"))?.status).toBe("processed");
    const replies = calls(stub, "POST", /^\/repos\/Codertocat\/Hello-World\/issues\/\d+\/comments$/).map(
      (r) => (r.body as { body: string }).body,
    );
    expect(replies.some((b) => b.includes("/agent fix"))).toBe(true);
    expect(replies.some((b) => b.includes("@stranger is not a collaborator"))).toBe(true);
  });
});
