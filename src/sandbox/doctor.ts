import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { SandboxManager } from "@anthropic-ai/sandbox-runtime";
import { baseEnv } from "../util/exec.js";
import { runInSandbox } from "./run.js";

/** One finding of `backlog-bot doctor`. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** What was found (a path, a version, an error). */
  detail: string;
  /** What to do when not ok. */
  fix?: string;
}

/** Debian/Ubuntu packages the sandbox needs (sandbox-runtime README, "Platform-Specific Dependencies"). */
const PACKAGES: Array<{ program: string; pkg: string; why: string }> = [
  { program: "bwrap", pkg: "bubblewrap", why: "the sandbox itself" },
  { program: "socat", pkg: "socat", why: "bridges the sandbox's network to its filtering proxy" },
  { program: "rg", pkg: "ripgrep", why: "finds the files the sandbox always write-protects (.git/hooks, .bashrc, ...)" },
];

function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":").filter(Boolean)) {
    try {
      accessSync(path.join(dir, program), constants.X_OK);
      return path.join(dir, program);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs inside the probe sandbox: tries the planted secret, then the allowlisted server through the proxy. */
const PROBE_SCRIPT = `
const fs = require("node:fs"), http = require("node:http");
const [secret, target] = process.argv.slice(1);
let read = "refused";
try { read = fs.readFileSync(secret, "utf8").includes("doctor-canary") ? "READ" : "other"; } catch (e) { read = e.code; }
const proxy = new URL(process.env.HTTP_PROXY || "http://none:1");
const auth = Buffer.from(decodeURIComponent(proxy.username) + ":" + decodeURIComponent(proxy.password)).toString("base64");
http.get({ host: proxy.hostname, port: proxy.port, path: target, headers: { host: new URL(target).host, "proxy-authorization": "Basic " + auth } }, (res) => {
  res.resume();
  res.on("end", () => console.log(JSON.stringify({ read, status: res.statusCode })));
}).on("error", (e) => console.log(JSON.stringify({ read, status: 0, error: e.message })));
`;

/**
 * The checks `backlog-bot doctor` prints: the packages, unprivileged user namespaces (what
 * bubblewrap needs), the library's own dependency check, then a real sandboxed probe: it must not
 * read a secret planted outside its worktree, and must reach an allowlisted local server through
 * the proxy (so the proxy started).
 */
export async function runDoctor(): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  if (process.platform !== "linux") {
    return [{ name: "platform", ok: false, detail: process.platform, fix: "run backlog-bot on Linux, or set BACKLOG_BOT_SANDBOX=off" }];
  }
  for (const { program, pkg, why } of PACKAGES) {
    const found = which(program);
    checks.push({
      name: `${pkg} installed (${why})`,
      ok: found !== undefined,
      detail: found ?? "not on PATH",
      fix: `apt-get install -y ${pkg}`,
    });
  }
  const bwrap = which("bwrap");
  if (bwrap) {
    try {
      execFileSync(bwrap, ["--unshare-user", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc", "true"], { stdio: "pipe" });
      checks.push({ name: "user namespaces allowed", ok: true, detail: "bwrap --unshare-user --unshare-pid works" });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
      checks.push({
        name: "user namespaces allowed",
        ok: false,
        detail: stderr,
        fix: "sysctl -w kernel.unprivileged_userns_clone=1 (Debian); on Ubuntu 24.04+ sysctl -w kernel.apparmor_restrict_unprivileged_userns=0; as root, keep CAP_SETFCAP in the bounding set",
      });
    }
  }
  const deps = SandboxManager.checkDependencies();
  checks.push({
    name: "sandbox-runtime dependency check",
    ok: deps.errors.length === 0,
    detail: [...deps.errors, ...deps.warnings].join("; ") || "ok",
    fix: "see the errors above",
  });
  if (checks.some((c) => !c.ok)) return checks;
  checks.push(...(await probe()));
  return checks;
}

async function probe(): Promise<DoctorCheck[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "bbdoctor-"));
  const server = createServer((_req, res) => res.end("ok"));
  try {
    const worktree = path.join(dir, "worktree");
    await mkdir(worktree);
    const secret = path.join(dir, "planted-secret.pem");
    await writeFile(secret, "doctor-canary\n", { mode: 0o600 });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const result = await runInSandbox(
      process.execPath,
      ["-e", PROBE_SCRIPT, secret, `http://${host}/`],
      { worktree, home: worktree, allowedHosts: [host], env: baseEnv() },
      { timeoutMs: 60_000 },
    );
    let seen: { read?: string; status?: number; error?: string } = {};
    try {
      seen = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}");
    } catch {
      seen = {};
    }
    const started = result.exitCode === 0 && seen.read !== undefined;
    return [
      {
        name: "a sandboxed probe runs",
        ok: started,
        detail: started ? "ok" : `${result.exitCode ?? result.signal}: ${(result.stderr || result.stdout).trim().slice(-400)}`,
        fix: "see the message; run with SRT_DEBUG=1 for the sandbox library's own log",
      },
      {
        name: "the proxy starts and lets allowlisted traffic through",
        ok: seen.status === 200,
        detail: `HTTP ${seen.status ?? "none"} ${seen.error ?? ""}`.trim(),
      },
      {
        name: "the probe cannot read a secret planted outside its worktree",
        ok: started && seen.read !== "READ",
        detail: seen.read === "READ" ? "it read the secret" : `read refused (${seen.read ?? "not run"})`,
      },
    ];
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
}
