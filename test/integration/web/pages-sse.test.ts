import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publish, subscriberCount } from "../../../src/web/events.js";
import { API_TOKEN, signIn, startWeb, type WebUnderTest } from "./support.js";

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

/** Reads an SSE stream until `count` events arrived; returns them as { event, data }. */
async function readEvents(res: Response, count: number): Promise<Array<{ event: string; data: unknown }>> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const out: Array<{ event: string; data: unknown }> = [];
  while (out.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) out.push({ event, data: JSON.parse(data) });
      end = buffer.indexOf("\n\n");
    }
  }
  await reader.cancel();
  return out;
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
    const before = subscriberCount();
    const res = await fetch(`${web.url}/api/v1/events?task=${web.ids.task}`, { headers: { cookie: sessions.alice?.cookie ?? "" } });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    while (subscriberCount() === before) await new Promise((r) => setTimeout(r, 10));
    const events = readEvents(res, 2);
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
    const got = await events;
    expect(got.map((e) => e.event)).toEqual(["transcript", "task"]);
    expect(got[1]?.data).toMatchObject({ state: "pr_open", prUrl: "https://github.com/o/a/pull/1" });
    while (subscriberCount() !== before) await new Promise((r) => setTimeout(r, 10));
  });

  it("ends open streams on shutdown, so the HTTP server can close", async () => {
    const { closeEventStreams } = await import("../../../src/web/index.js");
    const before = subscriberCount();
    const res = await fetch(`${web.url}/api/v1/events`, { headers: { cookie: sessions.alice?.cookie ?? "" } });
    while (subscriberCount() === before) await new Promise((r) => setTimeout(r, 10));
    expect(closeEventStreams()).toBe(1);
    const text = await res.text(); // resolves only when the server ended the stream
    expect(text).toContain(": connected");
    expect(subscriberCount()).toBe(before);
  });

  it("refuses a stream without sign-in", async () => {
    expect((await fetch(`${web.url}/api/v1/events`)).status).toBe(401);
  });
});
