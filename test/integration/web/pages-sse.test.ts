import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publish } from "../../../src/web/events.js";
import { MAX_STREAMS_PER_VIEWER } from "../../../src/web/sse.js";
import { API_TOKEN, PEOPLE, signIn, startWeb, type WebUnderTest } from "./support.js";

let web: WebUnderTest;
const sessions: Record<string, { cookie: string; csrf: string }> = {};
beforeAll(async () => {
  web = await startWeb();
  for (const login of ["alice", "bob"]) sessions[login] = await signIn(web, login);
});
afterAll(async () => {
  await web?.close();
});

const page = async (login: string, path: string) => {
  const res = await fetch(`${web.url}${path}`, { headers: { cookie: sessions[login]?.cookie ?? "" } });
  return { status: res.status, html: await res.text(), headers: res.headers };
};

type Sse = { event: string; data: Record<string, unknown> };

/** Reads an SSE stream event by event: `until(pred)` returns the events up to and including the first matching one. */
function eventReader(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const queue: Sse[] = [];
  async function next(): Promise<Sse> {
    while (queue.length === 0) {
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended");
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) queue.push({ event, data: JSON.parse(data) });
        end = buffer.indexOf("\n\n");
      }
    }
    return queue.shift() as Sse;
  }
  return {
    async until(pred: (e: Sse) => boolean): Promise<Sse[]> {
      const out: Sse[] = [];
      for (;;) {
        const e = await next();
        out.push(e);
        if (pred(e)) return out;
      }
    },
    close: () => reader.cancel(),
  };
}

describe("dashboard pages", () => {
  it("renders the overview with the person's repositories only, under a strict CSP", async () => {
    const { status, html, headers } = await page("bob", "/");
    expect(status).toBe(200);
    expect(html).toContain('href="/repos/o/a"');
    expect(html).not.toContain("o/b");
    expect(headers.get("content-security-policy")).toContain("default-src 'self'");
  });

  it("shows a writer the start and dismiss buttons with breakdowns, a reader none, and escapes finding text", async () => {
    const writer = await page("alice", "/repos/o/a");
    expect(writer.html).toContain(`action="/api/v1/findings/${web.ids.a0}/tasks"`);
    expect(writer.html).toContain(`action="/api/v1/findings/${web.ids.a0}/dismiss"`);
    expect(writer.html).not.toContain(`action="/api/v1/findings/${web.ids.a4}/tasks"`); // its failed task is retried instead
    expect(writer.html).toContain(`action="/api/v1/tasks/${web.ids.task}/retry"`);
    expect(writer.html).toMatch(/<ul class="breakdown"><li>/);
    expect(writer.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(writer.html).not.toContain("<script>alert(1)</script>");
    const reader = await page("bob", "/repos/o/a");
    expect(reader.status).toBe(200);
    expect(reader.html).not.toContain("/api/v1/");
    expect(reader.html.match(/<button/g)?.length).toBe(1); // Sign out, nothing else
    expect((await page("bob", "/repos/o/b")).status).toBe(404);
    expect((await page("bob", "/repos/%E0%A4%A/a")).status).toBe(400); // a malformed escape: the client's mistake
  });

  it("renders a task with its run evidence and the transcript as a conversation with tool calls collapsed", async () => {
    const { html } = await page("bob", `/tasks/${web.ids.task}`);
    expect(html).toContain("failed: 1 of 3 tests");
    expect(html).toContain('<div class="msg assistant"><b>assistant</b>\nI will read the file.</div>');
    expect(html).toMatch(/<details class="tool"><summary>🔧 Read<\/summary><pre>\{\n {2}&quot;file_path&quot;/);
    expect(html).toContain('<script src="/static/live.js" defer></script>');
  });

  it("renders outcomes with charts and the audit log", async () => {
    const outcomes = await page("alice", "/outcomes?weeks=8");
    expect(outcomes.html).toContain('<svg role="img" aria-label="Pull requests per week"');
    expect(outcomes.html.match(/<rect /g)?.length).toBe(8 * 3 + 8);
    expect((await page("alice", "/audit")).html).toContain('<table id="audit">');
  });

  it("sends a person who is not signed in to the sign-in page; the operator token opens pages too", async () => {
    const res = await fetch(`${web.url}/repos/o/a`);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('href="/login?return_to=%2Frepos%2Fo%2Fa"');
    expect((await fetch(`${web.url}/repos/o/c`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(200);
  });

  it("signs out only with the page's CSRF token", async () => {
    const forged = await fetch(`${web.url}/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: sessions.bob?.cookie ?? "", "content-type": "application/x-www-form-urlencoded" },
      body: "_csrf=nope",
    });
    expect(forged.status).toBe(403);
    const ok = await fetch(`${web.url}/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: sessions.bob?.cookie ?? "", "content-type": "application/x-www-form-urlencoded" },
      body: `_csrf=${encodeURIComponent(sessions.bob?.csrf ?? "")}`,
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("set-cookie")).toMatch(/^bb_session=; .*Max-Age=0/);
  });
});

describe("server-sent events", () => {
  it("streams a task's state changes and transcript events to a reader of its repository, and nothing of others", async () => {
    const res = await fetch(`${web.url}/api/v1/events?task=${web.ids.task}`, { headers: { cookie: sessions.alice?.cookie ?? "" } });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const stream = eventReader(res);
    // The stream starts with the task's state as the store has it.
    expect((await stream.until((e) => e.event === "task"))[0]?.data).toMatchObject({ state: "failed" });
    publish({ type: "task", taskId: 999, repository: "o/a", state: "running" }); // another task: filtered
    publish({ type: "task", taskId: web.ids.task as number, repository: "o/c", state: "running" }); // unreadable repository: filtered
    publish({
      type: "transcript",
      taskId: web.ids.task as number,
      runId: 1,
      repository: "o/a",
      event: { kind: "message", role: "assistant", text: "hello" },
    });
    publish({ type: "task", taskId: web.ids.task as number, repository: "o/a", state: "pr_open", prUrl: "https://github.com/o/a/pull/1" });
    const got = await stream.until((e) => e.event === "task");
    await stream.close();
    expect(got.map((e) => e.event)).toEqual(["transcript", "task"]);
    expect(got[1]?.data).toMatchObject({ state: "pr_open", prUrl: "https://github.com/o/a/pull/1" });
  });

  it("follows a task through the store when nothing is published (another process runs it): state, run, transcript lines", async () => {
    const at = new Date().toISOString();
    const { id: taskId } = await web.db
      .insertInto("tasks")
      .values({
        repository_id: web.ids.a as number,
        title: "watched",
        state: "queued",
        requested_by: "alice",
        trigger: "dashboard",
        created_at: at,
        updated_at: at,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const res = await fetch(`${web.url}/api/v1/events?task=${taskId}`, { headers: { cookie: sessions.bob?.cookie ?? "" } });
    const stream = eventReader(res);
    expect((await stream.until((e) => e.event === "task"))[0]?.data).toMatchObject({ state: "queued" });
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "backlog-bot-watch-")), "run.log");
    writeFileSync(
      file,
      `${JSON.stringify({ type: "assistant", message: { content: [{ type: "text", text: "first line" }] } })}\n{"type":"assist`,
    );
    const { id: runId } = await web.db
      .insertInto("runs")
      .values({ task_id: taskId, agent: "command", started_at: at, transcript_path: file })
      .returning("id")
      .executeTakeFirstOrThrow();
    await web.db.updateTable("tasks").set({ state: "running" }).where("id", "=", taskId).execute();
    const seen: Sse[] = [];
    const has = (pred: (e: Sse) => boolean) => seen.some(pred);
    while (!(has((e) => e.event === "task" && e.data.state === "running") && has((e) => e.event === "transcript")))
      seen.push(...(await stream.until(() => true)));
    expect(seen.filter((e) => e.event === "run")[0]?.data).toMatchObject({ runId, outcome: null });
    expect(seen.filter((e) => e.event === "transcript").map((e) => (e.data.event as { text: string }).text)).toEqual(["first line"]);
    // The rest of the half-written line arrives; the run ends; the PR opens.
    appendFileSync(file, `ant","message":{"content":[{"type":"text","text":"second line"}]}}\n`);
    await web.db.updateTable("runs").set({ outcome: "changes", ended_at: at }).where("id", "=", runId).execute();
    await web.db.updateTable("tasks").set({ state: "pr_open", pr_url: "https://github.com/o/a/pull/5" }).where("id", "=", taskId).execute();
    seen.length = 0;
    while (
      !(
        has((e) => e.event === "task" && e.data.state === "pr_open") &&
        has((e) => e.event === "run" && e.data.outcome === "changes") &&
        has((e) => e.event === "transcript")
      )
    )
      seen.push(...(await stream.until(() => true)));
    await stream.close();
    expect(seen.filter((e) => e.event === "transcript").map((e) => (e.data.event as { text: string }).text)).toEqual(["second line"]);
    expect(seen.find((e) => e.event === "task")?.data).toMatchObject({ prUrl: "https://github.com/o/a/pull/5" });
  });

  it("ends open streams on shutdown, so the HTTP server can close", async () => {
    const { closeEventStreams } = await import("../../../src/web/index.js");
    // The response's headers arrive after the stream has subscribed (same tick on the server).
    const res = await fetch(`${web.url}/api/v1/events`, { headers: { cookie: sessions.alice?.cookie ?? "" } });
    expect(closeEventStreams()).toBeGreaterThanOrEqual(1);
    const text = await res.text(); // resolves only when the server ended the stream
    expect(text).toContain(": connected");
  });

  it("refuses a stream without sign-in", async () => {
    expect((await fetch(`${web.url}/api/v1/events`)).status).toBe(401);
  });
});

describe("server-sent events: access is asked again", () => {
  it("ends a stream once its viewer can no longer read the task's repository, and refuses a task they cannot read (404)", async () => {
    const quick = await startWeb({ eventsRecheckMs: 50 });
    PEOPLE.erin = { "o/a": "read" };
    try {
      const erin = await signIn(quick, "erin");
      const carol = await signIn(quick, "carol");
      const hidden = await fetch(`${quick.url}/api/v1/events?task=${quick.ids.task}`, { headers: { cookie: carol.cookie } });
      expect([hidden.status, ((await hidden.json()) as { error: { code: string } }).error.code]).toEqual([404, "not_found"]);
      expect((await fetch(`${quick.url}/api/v1/events?task=999999`, { headers: { cookie: erin.cookie } })).status).toBe(404);

      const res = await fetch(`${quick.url}/api/v1/events?task=${quick.ids.task}`, { headers: { cookie: erin.cookie } });
      expect(res.status).toBe(200);
      const stream = eventReader(res);
      expect((await stream.until((e) => e.event === "task"))[0]?.data).toMatchObject({ state: "failed" });
      PEOPLE.erin = {}; // removed from the repository on GitHub
      await expect(stream.until(() => false)).rejects.toThrow("stream ended");
    } finally {
      delete PEOPLE.erin;
      await quick.close();
    }
  });

  it(`holds at most ${MAX_STREAMS_PER_VIEWER} open streams per viewer (429 past it), and frees a slot when one closes`, async () => {
    const quick = await startWeb();
    try {
      const alice = await signIn(quick, "alice");
      const open = async () => fetch(`${quick.url}/api/v1/events`, { headers: { cookie: alice.cookie } });
      const streams = await Promise.all(Array.from({ length: MAX_STREAMS_PER_VIEWER }, open));
      expect(streams.every((r) => r.status === 200)).toBe(true);
      const over = await open();
      expect(over.status).toBe(429);
      await streams[0]?.body?.cancel();
      let again = await open();
      for (let i = 0; i < 50 && again.status === 429; i++) {
        await new Promise((r) => setTimeout(r, 20));
        again = await open();
      }
      expect(again.status).toBe(200);
      await Promise.all([again, ...streams.slice(1)].map((r) => r.body?.cancel()));
    } finally {
      await quick.close();
    }
  });
});
