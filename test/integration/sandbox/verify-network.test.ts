import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { intersectHosts } from "../../../src/sandbox/policy.js";
import { runSandboxed } from "../../../src/sandbox/run.js";
import { configureSandbox } from "../../../src/sandbox/status.js";
import { baseEnv } from "../../../src/util/exec.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";

/** A test script that GETs a URL through the proxy the sandbox gives it, and fails on anything but 200. */
const FETCH_SCRIPT = `
const http = require("node:http");
const proxy = new URL(process.env.HTTP_PROXY);
const auth = Buffer.from(decodeURIComponent(proxy.username) + ":" + decodeURIComponent(proxy.password)).toString("base64");
const target = process.argv[2];
http.get({ host: proxy.hostname, port: proxy.port, path: target, headers: { host: new URL(target).host, "proxy-authorization": "Basic " + auth } }, (res) => {
  let body = "";
  res.on("data", (c) => (body += c));
  res.on("end", () => {
    console.log("GET " + target + " -> " + res.statusCode + " " + (res.headers["x-proxy-error"] || "") + " " + body.trim());
    process.exit(res.statusCode === 200 ? 0 : 1);
  });
}).on("error", (e) => { console.log(e.message); process.exit(1); });
`;

/**
 * Issue 11: a verify command (`npm test`) inside the sandbox reaches the hosts the repository asked
 * for (within the operator's list) and fails with the proxy's denial for any other.
 */
describe("verify commands and the network", () => {
  const root = makeTempDir("backlog-bot-verify-net-");
  const worktree = path.join(root, "worktree");
  const home = path.join(root, "home");
  let registry: Server;
  let other: Server;
  let registryHost: string;
  let otherHost: string;

  const listen = async (): Promise<{ server: Server; host: string }> => {
    const server = createServer((_req, res) => res.end("package index"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
  };

  beforeAll(async () => {
    configureSandbox({ mode: "on", hidden: [] });
    ({ server: registry, host: registryHost } = await listen());
    ({ server: other, host: otherHost } = await listen());
    mkdirSync(worktree, { recursive: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(worktree, "fetch.cjs"), FETCH_SCRIPT);
    writeFileSync(
      path.join(worktree, "package.json"),
      JSON.stringify({
        name: "t",
        version: "1.0.0",
        scripts: { test: `node fetch.cjs http://${otherHost}/`, setup: `node fetch.cjs http://${registryHost}/` },
      }),
    );
  });
  afterAll(async () => {
    await new Promise((resolve) => registry.close(resolve));
    await new Promise((resolve) => other.close(resolve));
    removeDir(root);
  });

  const npm = (script: string, allowedHosts: string[]) =>
    runSandboxed("npm", ["run", "--silent", script], {
      worktree,
      home,
      allowedHosts,
      env: { ...baseEnv(), HOME: home, npm_config_update_notifier: "false" },
      timeoutMs: 60_000,
    });

  it("a repository can narrow the operator's list, never widen it", () => {
    expect(intersectHosts([registryHost, otherHost], [registryHost])).toEqual([registryHost]);
    expect(intersectHosts(["registry.npmjs.org", "evil.example"], ["*.npmjs.org"])).toEqual(["registry.npmjs.org"]);
  });

  it("the setup step reaches the allowlisted registry", async () => {
    const result = await npm("setup", intersectHosts([registryHost], [registryHost]));
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/-> 200 +package index/);
    expect(result.denials).toBe(0);
  });

  it("`npm test` reaching a host that is not allowlisted fails with the proxy's denial in its output", async () => {
    const result = await npm("test", intersectHosts([registryHost, otherHost], [registryHost]));
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`GET http://${otherHost}/ -> 403 blocked-by-allowlist Connection blocked by network allowlist`),
    );
    expect(result.denials).toBe(1);
    expect(result.denialLines).toEqual([`deny network-outbound ${otherHost} (host is not on the allow list)`]);
  });
});
