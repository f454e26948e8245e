import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/util/logger.js";
import { startSetupServer } from "../../../src/web/setup.js";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe("first start without APP_ID", () => {
  it("serves Probot's manifest flow built from app.yml, and writes imported credentials through updateEnv", async () => {
    const port = await freePort();
    const written: Array<Record<string, string>> = [];
    const server = await startSetupServer(
      { HOST: "127.0.0.1", PORT: String(port), NODE_ENV: "test" },
      {
        log: createLogger({ level: "silent" }),
        updateEnv: (values) => {
          written.push(values as Record<string, string>);
          return values;
        },
      },
    );
    stops.push(() => server.stop());
    const base = `http://127.0.0.1:${port}`;
    const root = await fetch(`${base}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/probot");
    const page = await (await fetch(`${base}/probot`)).text();
    expect(page).toContain("https://github.com/settings/apps/new");
    expect(page).toContain("backlog-bot");
    expect(page).toContain('"pull_requests":"write"'); // app.yml's permissions, in the manifest the form posts
    const imported = await fetch(`${base}/probot/import`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        appId: "123",
        pem: "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----",
        webhook_secret: "s3cret",
      }),
    });
    expect(imported.status).toBe(200);
    expect(written[0]).toMatchObject({ APP_ID: "123", WEBHOOK_SECRET: "s3cret" });
    expect((await fetch(`${base}/probot/setup`)).status).toBe(400); // no code: refused, nothing written
    expect(written).toHaveLength(1);
  });
});
