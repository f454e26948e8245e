import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { ProbotOctokit } from "probot";
import { type Db, openDb } from "../../../src/store/db.js";
import type { Logger } from "../../../src/util/logger.js";

/** A silent logger for tests. */
export const silentLog: Logger = pino({ level: "silent" });

/** A real SQLite store in a fresh temp directory; `cleanup` closes and removes it. */
export async function tempStore(): Promise<{ db: Db; dir: string; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), "backlog-bot-test-"));
  const db = await openDb(dir);
  return {
    db,
    dir,
    cleanup: async () => {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Probot's Octokit against the stub, throttling and retry off (fast tests). */
export function fastOctokit(baseUrl: string): InstanceType<typeof ProbotOctokit> {
  const Quiet = ProbotOctokit.defaults((o: Record<string, unknown>) => ({
    ...o,
    retry: { enabled: false },
    throttle: { ...(o.throttle as object), enabled: false },
  }));
  return new Quiet({ auth: { token: "ghs_testtesttesttesttesttesttesttest00" }, baseUrl, log: silentLog });
}

/** Probot's Octokit against the stub exactly as production builds it: throttling and retry on. */
export function productionOctokit(baseUrl: string): InstanceType<typeof ProbotOctokit> {
  return new ProbotOctokit({ auth: { token: "ghs_testtesttesttesttesttesttesttest00" }, baseUrl, log: silentLog });
}
