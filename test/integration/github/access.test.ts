import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Probot } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppAccess } from "../../../src/github/access.js";
import { createLogger } from "../../../src/util/logger.js";

/**
 * GitHub Enterprise: the installation token is minted through the configured API base
 * (`<GHE_HOST>/api/v3`), never api.github.com. A local HTTP server stands in for the GHE API.
 */
describe("installation tokens on GitHub Enterprise", () => {
  const seen: string[] = [];
  let server: Server;
  let baseUrl: string;
  let minted = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      if (req.method === "POST" && req.url === "/api/v3/app/installations/42/access_tokens") {
        minted++;
        res.writeHead(201, { "content-type": "application/json" });
        const expires = new Date(Date.now() + 60 * 60_000).toISOString();
        res.end(JSON.stringify({ token: `ghs_enterpriseToken${minted}AAAAAAAAAAAAAAAAAAAA`, expires_at: expires }));
        return;
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "Not Found" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("POSTs /app/installations/{id}/access_tokens to the GHE API base and reuses the token while it is fresh", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const probot = new Probot({
      appId: 1,
      privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      baseUrl,
      log: createLogger({ level: "silent" }),
    });
    const access = createAppAccess(probot);
    const token = await access.token(42);
    expect(token).toBe("ghs_enterpriseToken1AAAAAAAAAAAAAAAAAAAA");
    expect(seen).toEqual(["POST /api/v3/app/installations/42/access_tokens"]);
    // An hour-long token with more than the minimum life left is not minted again.
    expect(await access.token(42)).toBe(token);
    expect(minted).toBe(1);
  });

  it("refuses to mint without an installation id", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const probot = new Probot({ appId: 1, privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(), baseUrl });
    await expect(createAppAccess(probot).token(null)).rejects.toMatchObject({ code: "INVALID_SETTINGS" });
  });
});
