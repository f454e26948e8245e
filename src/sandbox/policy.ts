import { existsSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { SandboxRuntimeConfig } from "@anthropic-ai/sandbox-runtime";

/** What one sandboxed run may touch. All paths absolute. */
export interface SandboxPolicy {
  /** The task's worktree: read-write, the working directory. */
  worktree: string;
  /** The run's private HOME: read-write. */
  home: string;
  /** Extra paths readable (not writable): the mirror git in the worktree needs, an agent CLI's install. */
  readOnly: readonly string[];
  /** Hosts the run may reach through the proxy (`host`, `host:port`, `*.domain`); empty: none. */
  allowedHosts: readonly string[];
  /** Paths never readable even inside a readable region (the private key, the data dir). */
  hidden: readonly string[];
  /** Directory of the runner's proxy sockets: bound into the sandbox so traffic can reach the proxy. */
  socketDir: string;
}

/**
 * Toolchains every run may read: the system's programs, libraries and configuration. Everything
 * else under `/` (home directories, `/root`, `/work`, `/srv`, `/var`, `/tmp`, `/run`, the data dir)
 * is replaced by an empty directory inside the sandbox; `/tmp` thereby becomes a private TMP.
 */
const SYSTEM_READ = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"];
/**
 * System files that stay hidden although `/etc` is readable (the server may run as root), and where
 * an operator would put backlog-bot's own environment file for systemd (`EnvironmentFile=`).
 */
const SYSTEM_HIDDEN = [
  "/etc/shadow",
  "/etc/gshadow",
  "/etc/ssh",
  "/etc/sudoers",
  "/etc/sudoers.d",
  "/etc/backlog-bot",
  "/etc/default/backlog-bot",
];

/** The package root of the sandbox library: its seccomp helper and JVM agent are run from there. */
function libraryRoot(): string {
  const entry = createRequire(import.meta.url).resolve("@anthropic-ai/sandbox-runtime");
  return path.resolve(path.dirname(entry), "..");
}

/**
 * The directory an executable needs readable: for a program installed by npm, the whole
 * `node_modules` holding it (its package, its platform binary package, its dependencies); else the
 * directory holding it. Names without a slash are looked up on PATH; an unknown program yields nothing.
 */
export function installDirOf(program: string): string | undefined {
  let file = program;
  if (!program.includes("/")) {
    const found = (process.env.PATH ?? "")
      .split(":")
      .filter(Boolean)
      .map((dir) => path.join(dir, program))
      .find((candidate) => existsSync(candidate));
    if (!found) return undefined;
    file = found;
  }
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return undefined;
  }
  const parts = real.split(path.sep);
  const at = parts.lastIndexOf("node_modules");
  return at > 0 ? parts.slice(0, at + 1).join(path.sep) : path.dirname(real);
}

/**
 * Expands host entries for the proxy's allowlist. `localhost:<port>` also allows `127.0.0.1:<port>`
 * and `[::1]:<port>`: the library's resolved-address check refuses loopback for a name unless the
 * literal address is listed (sandbox-runtime README, "Resolved-address check").
 */
export function expandHosts(hosts: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of hosts) {
    const host = raw.trim();
    if (!host) continue;
    out.add(host);
    const match = /^localhost(:\d+)?$/i.exec(host);
    if (match) {
      out.add(`127.0.0.1${match[1] ?? ""}`);
      out.add(`[::1]${match[1] ?? ""}`);
    }
  }
  return [...out];
}

/**
 * The `host:port` an API base URL talks to (`https://api.openai.com/v1` -> `api.openai.com:443`),
 * for an agent's default allowlist; undefined for a value that is not a URL.
 */
export function hostOfUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    const port = parsed.port || (parsed.protocol === "http:" ? "80" : "443");
    return `${parsed.hostname}:${port}`; // an IPv6 hostname comes bracketed, as the proxy's list wants it
  } catch {
    return undefined;
  }
}

/**
 * The hosts a repository asked for (`verify.allowedHosts`) that the operator's list also allows:
 * a repository can narrow the operator's list, never widen it. A requested entry is kept when it
 * equals an operator entry or is covered by an operator wildcard (`*.npmjs.org` covers `registry.npmjs.org`).
 */
export function intersectHosts(requested: readonly string[], operatorAllowed: readonly string[]): string[] {
  const covers = (allowed: string, host: string): boolean => {
    if (allowed === host) return true;
    if (!allowed.startsWith("*.")) return false;
    const [name = ""] = host.split(":");
    return name.endsWith(allowed.slice(1)) && !host.startsWith("*.");
  };
  return requested.filter((host) => operatorAllowed.some((allowed) => covers(allowed, host)));
}

/**
 * Builds the sandbox-runtime configuration for one run: reads denied from `/` down, with the
 * toolchains, the worktree, the private HOME and `readOnly` allowed back; writes only to the
 * worktree and HOME, and never to the worktree's `.git` file (it points git at the mirror; the bot's
 * own commit does not read it, and an agent must not be able to redirect it); network only through
 * the library's filtering proxy, to `allowedHosts`.
 */
export function buildSandboxConfig(policy: SandboxPolicy): SandboxRuntimeConfig {
  const allowRead = [...SYSTEM_READ, libraryRoot(), policy.socketDir, policy.worktree, policy.home, ...policy.readOnly].filter(
    (p, i, all) => existsSync(p) && all.indexOf(p) === i,
  );
  return {
    network: {
      allowedDomains: expandHosts(policy.allowedHosts),
      deniedDomains: [],
      strictAllowlist: true,
      allowLocalBinding: false,
    },
    filesystem: {
      denyRead: ["/", ...SYSTEM_HIDDEN, ...policy.hidden].filter((p) => p === "/" || existsSync(p)),
      allowRead,
      allowWrite: [policy.worktree, policy.home],
      denyWrite: [path.join(policy.worktree, ".git")],
    },
  } as SandboxRuntimeConfig;
}

/**
 * Variables the sandbox itself sets inside (sandbox-runtime's proxy plumbing, and TMPDIR): the
 * proxy's address for each tool family, git's proxy settings, the JVM agent. Nothing secret of the
 * bot's; the proxy credential they carry is per run and useless outside it. Plus PWD, SHLVL and `_`,
 * which the shell that starts the command inside sets.
 */
const SANDBOX_VARIABLES =
  /^(?:SANDBOX_RUNTIME|TMPDIR|PWD|SHLVL|_|(?:HTTPS?|ALL|FTP|GRPC|NO)_PROXY|(?:https?|all|ftp|grpc|no)_proxy|RSYNC_PROXY|DOCKER_HTTPS?_PROXY|CLOUDSDK_PROXY_\w+|GIT_CONFIG_PARAMETERS|GIT_CONFIG_(?:COUNT|KEY_\d+|VALUE_\d+)|GIT_SSH_COMMAND|JAVA_TOOL_OPTIONS|CLAUDE_CODE_HOST_(?:HTTP|SOCKS)_PROXY_PORT)$/;

/** True for a variable the sandbox sets inside every run (see `SANDBOX_VARIABLES`). */
export function isSandboxVariable(name: string): boolean {
  return SANDBOX_VARIABLES.test(name);
}
