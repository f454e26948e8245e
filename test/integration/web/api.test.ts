import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAudit } from "../../../src/store/audit.js";
import { routes } from "../../../src/web/api/routes.js";
import * as s from "../../../src/web/api/schemas.js";
import { backends } from "../../support/backends.js";
import { API_TOKEN, signIn, startWeb, type WebUnderTest } from "./support.js";

describe.each(backends())("web API on $name", (backend) => {
  let web: WebUnderTest;
  const sessions: Record<string, { cookie: string; csrf: string }> = {};
  const covered = new Set<string>();

  beforeAll(async () => {
    web = await startWeb({}, backend);
    for (const login of ["alice", "bob", "carol"]) sessions[login] = await signIn(web, login);
  });
  afterAll(async () => {
    await web?.close();
  });

  type As = "operator" | "alice" | "bob" | "carol" | "nobody";
  async function call(as: As, method: string, path: string, body?: unknown, options: { csrf?: boolean; op?: string } = {}) {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (as === "operator") headers.authorization = `Bearer ${API_TOKEN}`;
    else if (as !== "nobody") {
      headers.cookie = sessions[as]?.cookie ?? "";
      if (options.csrf !== false) headers["x-csrf-token"] = sessions[as]?.csrf ?? "";
    }
    const res = await fetch(`${web.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (options.op && res.status < 300) covered.add(options.op);
    // biome-ignore lint/suspicious/noExplicitAny: bodies are checked field by field and against their zod schemas
    return { status: res.status, body: (await res.json()) as any };
  }

  describe("API: authentication", () => {
    it("serves /health and /ready without sign-in and nothing else", async () => {
      expect((await fetch(`${web.url}/health`)).status).toBe(200);
      const ready = await fetch(`${web.url}/ready`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { checks: { name: string }[] }).checks.map((c) => c.name)).toEqual(["store", "migrations"]);
      expect((await call("nobody", "GET", "/repositories")).status).toBe(401);
      expect((await call("nobody", "GET", "/tasks/1")).body.error.code).toBe("unauthorized");
      expect((await fetch(`${web.url}/`)).status).toBe(401);
      expect((await fetch(`${web.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${web.url}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(200);
    });

    it("refuses a wrong token and a forged session cookie", async () => {
      const wrong = await fetch(`${web.url}/api/v1/repositories`, { headers: { authorization: `Bearer ${API_TOKEN}x` } });
      expect(wrong.status).toBe(401);
      const forged = sessions.alice?.cookie.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
      const res = await fetch(`${web.url}/api/v1/repositories`, { headers: { cookie: forged ?? "" } });
      expect(res.status).toBe(401);
    });

    it("sets the session cookie HttpOnly and SameSite=Lax, and refuses a callback whose state was not issued here", async () => {
      const start = await fetch(`${web.url}/login`, { redirect: "manual" });
      expect(start.headers.get("set-cookie")).toMatch(/HttpOnly; SameSite=Lax/);
      const bad = await fetch(`${web.url}/auth/callback?code=code-alice&state=forged`, { redirect: "manual" });
      expect(bad.status).toBe(400);
    });

    it("returns to this site only after sign-in: a tab that browsers drop is no way out, and a non-Latin-1 path still signs in", async () => {
      const returnAfterSignIn = async (returnTo: string) => {
        web.github.nextLogin.value = "alice";
        const start = await fetch(`${web.url}/login?return_to=${encodeURIComponent(returnTo)}`, { redirect: "manual" });
        const stateCookie = (start.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
        const atGitHub = await fetch(start.headers.get("location") ?? "", { redirect: "manual" });
        const callback = await fetch(atGitHub.headers.get("location") ?? "", { redirect: "manual", headers: { cookie: stateCookie } });
        return { status: callback.status, location: callback.headers.get("location") };
      };
      expect(await returnAfterSignIn("/\t/evil.example/x")).toEqual({ status: 303, location: "/" });
      expect(await returnAfterSignIn("/repos/o/a")).toEqual({ status: 303, location: "/repos/o/a" });
      expect(await returnAfterSignIn("/repos/日本")).toEqual({ status: 303, location: "/repos/%E6%97%A5%E6%9C%AC" });
    });
  });

  describe("API: permissions mirror GitHub", () => {
    it("lists only the repositories each person can read, with write where they have it", async () => {
      const names = async (as: As) => {
        const { body } = await call(as, "GET", "/repositories", undefined, { op: "listRepositories" });
        s.RepositoriesOut.parse(body);
        return body.items.map((r: { fullName: string; canWrite: boolean }) => `${r.fullName}:${r.canWrite}`);
      };
      expect(await names("operator")).toEqual(["o/a:true", "o/b:true", "o/c:true"]);
      expect(await names("alice")).toEqual(["o/a:true", "o/b:false"]);
      expect(await names("bob")).toEqual(["o/a:false"]);
      expect(await names("carol")).toEqual([]);
    });

    it("answers 404 for what a person cannot read, whatever the route", async () => {
      expect((await call("bob", "GET", "/repositories/o/b/backlog")).status).toBe(404);
      expect((await call("bob", "GET", `/findings/${web.ids.b0}`)).status).toBe(404);
      expect((await call("carol", "GET", `/tasks/${web.ids.task}`)).status).toBe(404);
      expect((await call("carol", "GET", `/runs/${web.ids.run}`)).status).toBe(404);
      expect((await call("carol", "GET", "/tasks")).body.items).toEqual([]);
      expect((await call("carol", "POST", `/findings/${web.ids.a0}/tasks`, {})).status).toBe(404);
    });

    it("refuses a reader's write with 403 and records the refusal in the audit log", async () => {
      const res = await call("bob", "POST", `/findings/${web.ids.a1}/tasks`, {});
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain("write");
      const { items } = await listAudit(web.db, { actor: "bob" });
      expect(items[0]).toMatchObject({ action: "web.startTask", repository: "o/a", outcome: "refused" });
      expect(web.enqueued).toEqual([]);
    });

    it("refuses a signed-in write without the CSRF token", async () => {
      const res = await call("alice", "POST", `/findings/${web.ids.a1}/tasks`, {}, { csrf: false });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain("CSRF");
    });
  });

  describe("API: validation", () => {
    it("answers 400 with the path of each invalid field", async () => {
      const limit = await call("operator", "GET", "/tasks?limit=0&cursor=abc");
      expect(limit.status).toBe(400);
      s.ErrorResponse.parse(limit.body);
      expect(limit.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(["query.cursor", "query.limit"]);
      expect((await call("operator", "GET", "/tasks?state=bogus")).body.error.issues[0].path).toBe("query.state");
      expect((await call("operator", "GET", "/tasks/abc")).body.error.issues[0].path).toBe("params.id");
      const agent = await call("operator", "POST", `/findings/${web.ids.a1}/tasks`, { agent: "Not An Agent!" });
      expect(agent.status).toBe(400);
      expect(agent.body.error.issues[0].path).toBe("body.agent");
      const notJson = await fetch(`${web.url}/api/v1/findings/${web.ids.a1}/tasks`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
        body: "{",
      });
      expect(notJson.status).toBe(400);
      expect((await call("operator", "DELETE", "/tasks")).status).toBe(405);
      expect((await call("operator", "GET", "/nope")).status).toBe(404);
      // A malformed percent-escape in the path is the client's mistake: 400, not a logged 500.
      const malformed = await call("operator", "GET", "/repositories/%E0%A4%A/x/backlog");
      expect([malformed.status, malformed.body.error.code]).toEqual([400, "invalid_path"]);
    });

    it("answers 400 for an event stream of something that is no task id", async () => {
      // 20 digits: past 2^53 - 1, and past PostgreSQL's bigint, where each poll of the task failed.
      for (const task of ["99999999999999999999", "abc", ""]) {
        const events = await fetch(`${web.url}/api/v1/events?task=${task}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
        expect([task, events.status, ((await events.json()) as { error: { code: string } }).error.code]).toEqual([
          task,
          400,
          "invalid_request",
        ]);
      }
    });
  });

  describe("API: reads and pagination", () => {
    it("pages the ranked backlog with breakdowns until the cursor runs out", async () => {
      const seen: number[] = [];
      let cursor: string | null = "";
      while (cursor !== null) {
        const { body } = await call("alice", "GET", `/repositories/o/a/backlog?limit=2${cursor ? `&cursor=${cursor}` : ""}`, undefined, {
          op: "getBacklog",
        });
        s.BacklogOut.parse(body);
        expect(body.total).toBe(5);
        expect(body.items.length).toBeLessThanOrEqual(2);
        for (const row of body.items) {
          expect(row.breakdown.length).toBeGreaterThan(0);
          seen.push(row.rank);
        }
        cursor = body.nextCursor;
      }
      expect(seen).toEqual([1, 2, 3, 4, 5]);
      const { body } = await call("alice", "GET", "/repositories/o/a/backlog");
      expect(body.items.find((r: { findingId: number }) => r.findingId === web.ids.a4).task).toEqual({ id: web.ids.task, state: "failed" });
    });

    it("pages findings by keyset and filters by state; reads one finding", async () => {
      const first = await call("alice", "GET", "/repositories/o/a/findings?limit=3", undefined, { op: "listFindings" });
      s.FindingsOut.parse(first.body);
      expect(first.body.items).toHaveLength(3);
      const second = await call("alice", "GET", `/repositories/o/a/findings?limit=3&cursor=${first.body.nextCursor}`);
      expect(second.body.items).toHaveLength(2);
      expect(second.body.nextCursor).toBeNull();
      expect((await call("alice", "GET", "/repositories/o/a/findings?state=dismissed")).body.items).toEqual([]);
      const one = await call("alice", "GET", `/findings/${web.ids.a0}`, undefined, { op: "getFinding" });
      s.FindingOut.parse(one.body);
      expect(one.body.signals).toEqual({ marker: "TODO" });
    });

    it("lists tasks with filters, one task with its runs, and a run's transcript as events", async () => {
      const list = await call("bob", "GET", "/tasks?state=failed&repository=o/a", undefined, { op: "listTasks" });
      s.TasksOut.parse(list.body);
      expect(list.body.items.map((t: { id: number }) => t.id)).toEqual([web.ids.task]);
      expect((await call("bob", "GET", "/tasks?repository=o/b")).status).toBe(404);
      const task = await call("bob", "GET", `/tasks/${web.ids.task}`, undefined, { op: "getTask" });
      s.TaskDetailOut.parse(task.body);
      expect(task.body.runs[0]).toMatchObject({ id: web.ids.run, inputTokens: 100, costUsd: 0.25, verification: "failed: 1 of 3 tests" });
      const run = await call("bob", "GET", `/runs/${web.ids.run}`, undefined, { op: "getRun" });
      s.RunDetailOut.parse(run.body);
      expect(run.body.transcript.map((e: { kind: string }) => e.kind)).toEqual([
        "text",
        "message",
        "message",
        "tool_call",
        "tool_result",
        "result",
      ]);
      expect(run.body.transcript[3]).toMatchObject({ name: "Read", id: "t1" });
      expect(run.body.transcript[4]).toMatchObject({ output: "export const x = 1;", isError: false });
    });

    it("reports outcomes over the requested weeks", async () => {
      const { body } = await call("operator", "GET", "/outcomes?weeks=4", undefined, { op: "getOutcomes" });
      s.OutcomesOut.parse(body);
      expect(body.weeks).toHaveLength(4);
      expect(body.failureRate).toBe(1);
      expect(body.totalCostUsd).toBe(0.25);
    });
  });

  describe("API: writes", () => {
    it("starts a task from a finding once (a second request answers with the same task)", async () => {
      const res = await call("alice", "POST", `/findings/${web.ids.a0}/tasks`, { instructions: "keep it small" }, { op: "startTask" });
      expect(res.status).toBe(201);
      s.TaskRefOut.parse(res.body);
      expect(web.enqueued).toEqual([res.body.taskId]);
      const again = await call("operator", "POST", `/findings/${web.ids.a0}/tasks`, {});
      expect(again.body.taskId).toBe(res.body.taskId);
      expect(web.enqueued).toHaveLength(1);
      const task = await call("alice", "GET", `/tasks/${res.body.taskId}`);
      expect(task.body).toMatchObject({ state: "queued", requestedBy: "alice", trigger: "dashboard" });
    });

    it("applies the repository's limits as /agent fix does: over prHourlyLimit is a 409 with the reason", async () => {
      expect((await call("operator", "POST", `/findings/${web.ids.c0}/tasks`, {})).status).toBe(201);
      const over = await call("operator", "POST", `/findings/${web.ids.c1}/tasks`, {});
      expect(over.status).toBe(409);
      expect(over.body.error.message).toContain("prHourlyLimit");
      const { items } = await listAudit(web.db, { repositories: ["o/c"], outcome: "refused" });
      expect(items[0]).toMatchObject({ actor: "api-token", action: "api.startTask", detail: { reason: over.body.error.message } });
    });

    it("cancels a queued task, retries a failed one, and refuses what the state does not allow with 409", async () => {
      const started = await call("operator", "POST", `/findings/${web.ids.a1}/tasks`, {});
      const cancel = await call("alice", "POST", `/tasks/${started.body.taskId}/cancel`, {}, { op: "cancelTask" });
      expect(cancel.status).toBe(200);
      expect((await call("alice", "GET", `/tasks/${started.body.taskId}`)).body.state).toBe("cancelled");
      const again = await call("alice", "POST", `/tasks/${started.body.taskId}/cancel`, {});
      expect(again.status).toBe(409);
      expect(again.body.error.message).toContain("nothing to cancel");
      const retry = await call("alice", "POST", `/tasks/${web.ids.task}/retry`, {}, { op: "retryTask" });
      expect(retry.status).toBe(200);
      expect((await call("alice", "GET", `/tasks/${web.ids.task}`)).body.state).toBe("queued");
      expect(web.enqueued).toContain(web.ids.task);
      expect((await call("bob", "POST", `/tasks/${web.ids.task}/cancel`, {})).status).toBe(403);
    });

    it("dismisses a finding: it leaves the backlog; a browser form post is answered with a redirect", async () => {
      const res = await fetch(`${web.url}/api/v1/findings/${web.ids.a2}/dismiss`, {
        method: "POST",
        redirect: "manual",
        referrer: `${web.url}/repos/o/a`,
        headers: { cookie: sessions.alice?.cookie ?? "", "content-type": "application/x-www-form-urlencoded" },
        body: `_csrf=${encodeURIComponent(sessions.alice?.csrf ?? "")}`,
      });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/repos/o/a");
      covered.add("dismissFinding");
      const { body } = await call("alice", "GET", "/repositories/o/a/backlog");
      expect(body.items.map((r: { findingId: number }) => r.findingId)).not.toContain(web.ids.a2);
      expect((await call("alice", "GET", `/findings/${web.ids.a2}`)).body.dismissedAt).not.toBeNull();
    });

    it("dismisses a whole backlog row: every finding of its group", async () => {
      const at = new Date().toISOString();
      const ids = [];
      for (const n of [1, 2]) {
        const row = await web.db
          .insertInto("findings")
          .values({
            repository_id: web.ids.a as number,
            fingerprint: `dup-${n}`,
            kind: "todo",
            title: "TODO: add a test",
            path: `src/dup-${n}.ts`,
            line: 3,
            signals: "{}",
            first_seen_at: at,
            last_seen_at: at,
          })
          .returning("id")
          .executeTakeFirstOrThrow();
        ids.push(row.id);
      }
      const before = await call("alice", "GET", "/repositories/o/a/backlog");
      const row = before.body.items.find((r: { group: { count: number } }) => r.group.count === 2);
      expect(row.group.locations.map((l: { findingId: number }) => l.findingId).sort((x: number, y: number) => x - y)).toEqual(ids);
      expect((await call("alice", "POST", `/findings/${ids[1]}/dismiss`, {})).status).toBe(200);
      for (const id of ids) expect((await call("alice", "GET", `/findings/${id}`)).body.dismissedAt).not.toBeNull();
    });

    it("keeps an audit log of the writes, paged and limited to what the reader can see", async () => {
      await call("alice", "POST", `/findings/${web.ids.b0}/dismiss`, {});
      const all = await call("operator", "GET", "/audit?limit=2", undefined, { op: "listAudit" });
      s.AuditOut.parse(all.body);
      expect(all.body.items).toHaveLength(2);
      const next = await call("operator", "GET", `/audit?limit=2&cursor=${all.body.nextCursor}`);
      expect(next.body.items[0].id).toBeLessThan(all.body.items[1].id);
      const bobs = await call("bob", "GET", "/audit?limit=200");
      expect(bobs.body.items.length).toBeGreaterThan(0);
      expect(bobs.body.items.every((a: { repository: string }) => a.repository === "o/a")).toBe(true);
      const refused = await call("operator", "GET", "/audit?outcome=refused&actor=alice&action=web.startTask");
      expect(refused.body.items[0]).toMatchObject({ action: "web.startTask", detail: { reason: "csrf" } });
    });
  });

  describe("API: coverage", () => {
    it("exercised every route of the table", () => {
      expect([...covered].sort()).toEqual(routes.map((r) => r.operationId).sort());
    });
  });
});
