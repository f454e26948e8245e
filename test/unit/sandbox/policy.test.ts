import { describe, expect, it } from "vitest";
import { agentAllowedHosts, loadAgentSettings } from "../../../src/executor/agents/settings.js";
import { buildSandboxConfig, expandHosts, hostOfUrl, intersectHosts, isSandboxVariable } from "../../../src/sandbox/policy.js";
import { sandboxModeFromEnv } from "../../../src/sandbox/status.js";

describe("sandbox policy", () => {
  it("reads the API host an agent talks to from its base URL", () => {
    expect(hostOfUrl("https://api.openai.com/v1")).toBe("api.openai.com:443");
    expect(hostOfUrl("http://127.0.0.1:4141")).toBe("127.0.0.1:4141");
    expect(hostOfUrl("http://[::1]:8080/v1")).toBe("[::1]:8080");
    expect(hostOfUrl("not a url")).toBeUndefined();
  });

  it("allows loopback literals with localhost, since the proxy refuses loopback reached by a name", () => {
    expect(expandHosts(["localhost:3000", "api.anthropic.com:443"])).toEqual([
      "localhost:3000",
      "127.0.0.1:3000",
      "[::1]:3000",
      "api.anthropic.com:443",
    ]);
  });

  it("lets a repository narrow the operator's list but never widen it", () => {
    expect(intersectHosts(["registry.npmjs.org", "pypi.org", "evil.example"], ["*.npmjs.org", "pypi.org"])).toEqual([
      "registry.npmjs.org",
      "pypi.org",
    ]);
    expect(intersectHosts(["*.npmjs.org"], ["registry.npmjs.org"])).toEqual([]);
    expect(intersectHosts(["anything"], [])).toEqual([]);
  });

  it("denies reads from / down, allows back the toolchains and the run's own directories, writes only to worktree and HOME", () => {
    const config = buildSandboxConfig({
      worktree: "/tmp",
      home: "/tmp",
      readOnly: ["/usr/share"],
      allowedHosts: ["localhost:1"],
      hidden: ["/etc/hostname"],
      socketDir: "/tmp",
    });
    expect(config.filesystem.denyRead).toEqual(expect.arrayContaining(["/", "/etc/shadow", "/etc/hostname"]));
    expect(config.filesystem.allowRead).toEqual(expect.arrayContaining(["/usr", "/etc", "/tmp", "/usr/share"]));
    expect(config.filesystem.allowWrite).toEqual(["/tmp", "/tmp"]);
    expect(config.filesystem.denyWrite).toEqual(["/tmp/.git"]);
    expect(config.network).toMatchObject({ allowedDomains: ["localhost:1", "127.0.0.1:1", "[::1]:1"], strictAllowlist: true });
  });

  it("knows the variables it sets itself", () => {
    for (const name of ["HTTPS_PROXY", "no_proxy", "SANDBOX_RUNTIME", "GIT_SSH_COMMAND", "TMPDIR", "CLOUDSDK_PROXY_PORT"])
      expect(isSandboxVariable(name)).toBe(true);
    for (const name of ["HOME", "PATH", "ANTHROPIC_API_KEY", "GITHUB_TOKEN"]) expect(isSandboxVariable(name)).toBe(false);
  });

  it("BACKLOG_BOT_SANDBOX is on by default, off only when said", () => {
    expect(sandboxModeFromEnv({})).toBe("on");
    expect(sandboxModeFromEnv({ BACKLOG_BOT_SANDBOX: "OFF" })).toBe("off");
    expect(() => sandboxModeFromEnv({ BACKLOG_BOT_SANDBOX: "maybe" })).toThrow(/must be "on" or "off"/);
  });
});

describe("agents' allowed hosts", () => {
  it("defaults each agent to the model API host it is configured for", () => {
    const settings = loadAgentSettings({
      BACKLOG_BOT_CLAUDE_ENV: "ANTHROPIC_BASE_URL",
      ANTHROPIC_BASE_URL: "http://127.0.0.1:9000",
      BACKLOG_BOT_CODEX_BASE_URL: "https://llm.example/v1",
    });
    expect(settings.claude.allowedHosts).toEqual(["127.0.0.1:9000"]);
    expect(settings.codex.allowedHosts).toEqual(["llm.example:443"]);
    expect(settings.gemini.allowedHosts).toEqual(["generativelanguage.googleapis.com:443"]);
    expect(settings.command.allowedHosts).toEqual([]);
  });

  it("BACKLOG_BOT_AGENT_ALLOWED_HOSTS replaces the default of the agents it names", () => {
    const defaults = { "claude-code": ["a:443"], codex: ["b:443"], aider: [], gemini: ["g:443"], command: [] };
    const hosts = agentAllowedHosts(["*.corp.example", "codex=proxy.corp.example:8443"], defaults);
    expect(hosts.codex).toEqual(["*.corp.example", "proxy.corp.example:8443"]);
    expect(hosts["claude-code"]).toEqual(["*.corp.example"]);
    expect(agentAllowedHosts(["command=x:1"], defaults)).toMatchObject({ command: ["x:1"], codex: ["b:443"] });
    expect(() => agentAllowedHosts(["cursor=x"], defaults)).toThrow(/unknown agent "cursor"/);
  });
});
