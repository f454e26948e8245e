import { mkdirSync } from "node:fs";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publish, subscriberCount } from "../../src/web/events.js";
import { signIn, startWeb, type WebUnderTest } from "../integration/web/support.js";

/** Screenshots of each page, kept as test artifacts (gitignored). */
const ARTIFACTS = path.resolve(import.meta.dirname, "../../test-artifacts/web");

let web: WebUnderTest;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  web = await startWeb();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
});

/** A fresh browser context signed in as `login` through the stub GitHub's OAuth flow, clicking the button. */
async function signedIn(login: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  web.github.nextLogin.value = login;
  await page.goto(`${web.url}/`);
  await page.getByRole("button", { name: "Sign in with GitHub" }).click();
  await page.waitForURL(`${web.url}/`);
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

describe("web dashboard in Chromium", () => {
  it("signs in, shows only permitted repositories, starts a task with the button and follows it live to pr_open", async () => {
    const page = await signedIn("alice");
    await shot(page, "overview");
    const repos = await page.locator("#repositories a").allTextContents();
    expect(repos).toEqual(["o/a", "o/b"]);

    await page.getByRole("link", { name: "o/a" }).click();
    await page.waitForURL(`${web.url}/repos/o/a`);
    await shot(page, "backlog");
    const row = page.locator(`tr[data-finding="${web.ids.a0}"]`);
    expect(await row.locator(".breakdown li").count()).toBeGreaterThan(0);
    const streams = subscriberCount();
    await row.getByRole("button", { name: "Start" }).click();
    await page.waitForURL(/\/tasks\/\d+$/);
    const taskId = Number(new URL(page.url()).pathname.split("/").pop());
    expect(web.enqueued).toContain(taskId);
    await expect.poll(() => page.locator("#task [data-state]").first().textContent()).toBe("queued");

    // The page must update in place: a marker set now survives only if nothing reloads it.
    await page.evaluate(() => {
      (globalThis as unknown as { marker: number }).marker = 42;
    });
    // Wait until the page's EventSource has subscribed (the server runs in this process) before the "executor" publishes.
    await expect.poll(() => subscriberCount(), { timeout: 10_000 }).toBeGreaterThan(streams);
    publish({ type: "task", taskId, repository: "o/a", state: "running" });
    publish({
      type: "transcript",
      taskId,
      runId: 1,
      repository: "o/a",
      event: { kind: "message", role: "assistant", text: "Reading the TODO now." },
    });
    publish({
      type: "transcript",
      taskId,
      runId: 1,
      repository: "o/a",
      event: { kind: "tool_call", id: "t1", name: "Edit", input: '{"file_path":"src/file-0.ts"}' },
    });
    publish({ type: "task", taskId, repository: "o/a", state: "pr_open", prUrl: "https://github.com/o/a/pull/9" });
    await expect.poll(() => page.locator("#task [data-state]").first().textContent(), { timeout: 10_000 }).toBe("pr_open");
    expect(await page.locator("#pr a").getAttribute("href")).toBe("https://github.com/o/a/pull/9");
    expect(await page.locator("#live").textContent()).toContain("Reading the TODO now.");
    expect(await page.locator("#live details.tool summary").textContent()).toBe("🔧 Edit");
    expect(await page.locator("#live details.tool").getAttribute("open")).toBeNull();
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    expect(await page.getByRole("button", { name: "Cancel" }).count()).toBe(0);
    await shot(page, "task-live");
    await page.context().close();
  });

  it("reads a finished task's transcript as a conversation with tool calls collapsed", async () => {
    const page = await signedIn("bob");
    await page.goto(`${web.url}/tasks/${web.ids.task}`);
    const transcript = page.locator(`.transcript[data-run="${web.ids.run}"]`);
    expect(await transcript.locator(".msg.assistant").first().textContent()).toContain("I will read the file.");
    const tool = transcript.locator("details.tool").first();
    expect(await tool.locator("summary").textContent()).toBe("🔧 Read");
    expect(await tool.locator("pre").isVisible()).toBe(false);
    await tool.locator("summary").click();
    expect(await tool.locator("pre").textContent()).toContain("src/file-4.ts");
    await shot(page, "task-transcript");
    await page.goto(`${web.url}/outcomes`);
    expect(await page.locator("svg[aria-label='Pull requests per week']").count()).toBe(1);
    await shot(page, "outcomes");
    await page.context().close();
  });

  it("shows a reader no buttons and refuses a forged POST with 403", async () => {
    const page = await signedIn("bob");
    await page.goto(`${web.url}/repos/o/a`);
    expect(await page.locator("#backlog button").count()).toBe(0);
    await shot(page, "backlog-reader");
    const csrf = await page.locator('meta[name="csrf-token"]').getAttribute("content");
    const forged = await page.evaluate(
      async ({ id, token }) =>
        (
          await fetch(`/api/v1/findings/${id}/tasks`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-csrf-token": token ?? "" },
            body: "{}",
          })
        ).status,
      { id: web.ids.a3, token: csrf },
    );
    expect(forged).toBe(403);
    const noToken = await page.evaluate(
      async (id) =>
        (await fetch(`/api/v1/findings/${id}/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }))
          .status,
      web.ids.a3,
    );
    expect(noToken).toBe(403);
    await page.context().close();
    // And a writer's session without the page's token is refused too (CSRF), with plain HTTP.
    const alice = await signIn(web, "alice");
    const res = await fetch(`${web.url}/api/v1/findings/${web.ids.a3}/tasks`, {
      method: "POST",
      headers: { cookie: alice.cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(res.status).toBe(403);
  });
});
