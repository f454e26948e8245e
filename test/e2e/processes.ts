import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:net";
import path from "node:path";
import type { GitHubStub } from "../fixtures/github-stub.js";
import { ROOT, type ServerProcess, WEBHOOK_SECRET } from "./harness.js";

/** A server process of one role, which the test may also kill outright. */
export interface RoleProcess extends ServerProcess {
  child: ChildProcess;
  pid: number;
  /** `kill -9`: no shutdown, no cleanup, as a crashed machine. Resolves when it has exited. */
  kill9(): Promise<void>;
}

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PEM = privateKey.export({ type: "pkcs1", format: "pem" }).toString();

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts `node dist/main.js` (what `npm start` runs) with `BACKLOG_BOT_ROLE=role`, the App's
 * variables pointed at the stub, and `env` (the store: `DATABASE_URL` and/or `BACKLOG_BOT_DATA_DIR`).
 * @throws Error when it does not log "backlog-bot started" within 60 s.
 */
export async function startRole(stub: GitHubStub, role: "web" | "worker" | "all", env: Record<string, string>): Promise<RoleProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, "dist/main.js")], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      APP_ID: "1",
      PRIVATE_KEY: PEM,
      WEBHOOK_SECRET,
      HOST: "127.0.0.1",
      PORT: String(port),
      GHE_HOST: stub.host,
      GHE_PROTOCOL: "http",
      LOG_LEVEL: "info",
      NODE_ENV: "production",
      BACKLOG_BOT_ROLE: role,
      BACKLOG_BOT_SANDBOX: "off",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  const deadline = Date.now() + 60_000;
  while (!output.includes("backlog-bot started")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${role} did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    pid: child.pid ?? 0,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
    kill9: async () => {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
