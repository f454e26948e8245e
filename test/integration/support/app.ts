import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Probot, ProbotOctokit } from "probot";
import { createApp } from "../../../src/app.js";
import { loadSettings } from "../../../src/config/env.js";
import type { AgentRegistry } from "../../../src/executor/agents/registry.js";
import type { HandlerDeps } from "../../../src/handlers/types.js";
import type { Scheduler } from "../../../src/scheduler/scheduler.js";
import type { Db } from "../../../src/store/db.js";
import { silentLog } from "./env.js";

/** A recorded payload from test/fixtures/webhooks/, parsed fresh each time so tests can change it. */
export function webhookFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(path.join(import.meta.dirname, "../../fixtures/webhooks", `${name}.json`), "utf8")) as T;
}

/** The app as main.ts builds it, on a Probot whose clients talk to the stub (token auth, throttling off). */
export async function createTestProbot(options: { baseUrl: string; db: Db; scheduler?: Scheduler }): Promise<Probot> {
  const Octokit = ProbotOctokit.defaults((o: Record<string, unknown>) => ({
    ...o,
    retry: { enabled: false },
    throttle: { ...(o.throttle as object), enabled: false },
  }));
  const probot = new Probot({ githubToken: "ghs_testtesttesttesttesttesttesttest00", baseUrl: options.baseUrl, Octokit, log: silentLog });
  const deps: HandlerDeps & { scheduler?: Scheduler } = {
    db: options.db,
    settings: loadSettings({ BACKLOG_BOT_DATA_DIR: ":memory:" }),
    agents: {} as AgentRegistry,
    // These tests deliver scan and check events only; a task request here is a test bug.
    requests: {} as HandlerDeps["requests"],
    ...(options.scheduler && { scheduler: options.scheduler }),
  };
  await probot.load(createApp({ ...deps, log: silentLog }));
  return probot;
}

/** Delivers one webhook event to the app, as GitHub would (a fresh delivery id each time). */
export async function deliver(probot: Probot, name: string, payload: unknown): Promise<void> {
  await probot.receive({ id: randomUUID(), name, payload } as Parameters<Probot["receive"]>[0]);
}
