import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../../../src/config/parse.js";
import type { RepoConfig } from "../../../src/config/schema.js";
import { createAgentRegistry } from "../../../src/executor/agents/registry.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import type { RequestDeps } from "../../../src/executor/requests.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import type { Finding } from "../../../src/scanners/types.js";
import { runAutopilot } from "../../../src/scheduler/autopilot.js";
import { syncFindings } from "../../../src/store/findings.js";
import { getRepository, upsertRepository } from "../../../src/store/repositories.js";
import type { Repository } from "../../../src/store/schema.js";
import { claimTask, transition } from "../../../src/store/tasks.js";
import { payload } from "../../e2e/harness.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { type AppUnderTest, loadApp } from "../handlers/probot-harness.js";
import { silentLog } from "../support/env.js";

const DAY = 86_400_000;

function config(yaml: string): RepoConfig {
  const parsed = parseConfigText(yaml);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.config;
}

/**
 * Autopilot and a person's `/agent fix` on the same issue: the person's task has no finding, yet a
 * pull request of it that a maintainer closed unmerged is a "no" autopilot must hear, as it hears
 * one of its own (not again until the issue's content changes). The real app on a SQLite store
 * file, the comment and the close as webhooks, then autopilot's pass.
 */
describe("autopilot after a person's /agent fix on the issue", () => {
  let stub: GitHubStub;
  let app: AppUnderTest;
  let repository: Repository;
  let requests: RequestDeps;
  const cfg = config("autopilot: { enabled: true, kinds: [issue], maxTasksPerDay: 5 }\nprHourlyLimit: 0\nprConcurrentLimit: 10");
  /** Issue 42 as the labelled-issues scan reports it; `title` is its content. */
  const issue42 = (title: string): Finding => ({
    kind: "issue",
    fingerprint: "issue:42",
    title: `${title} (#42)`,
    url: "https://github.com/octo-org/widgets/issues/42",
    issueNumber: 42,
    signals: { createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-02T00:00:00Z", labels: ["bug"], comments: 1 },
  });
  const tasks = () => app.db.selectFrom("tasks").select(["id", "issue_number", "finding_id", "trigger", "state"]).orderBy("id").execute();

  beforeEach(async () => {
    stub = await startGitHubStub({
      "POST /app/installations/:id/access_tokens": () => ({
        status: 201,
        body: { token: "ghs_test", expires_at: new Date(Date.now() + 3.6e6).toISOString() },
      }),
      "GET /repos/:owner/:repo/collaborators/:user/permission": () => ({ body: { permission: "write", role_name: "maintain" } }),
      "GET /repos/:owner/:repo/issues/:number/comments": () => ({ body: [] }),
      "POST /repos/:owner/:repo/issues/:number/comments": () => ({ status: 201, body: { id: 1 } }),
      "POST /repos/:owner/:repo/issues/comments/:id/reactions": () => ({ status: 201, body: {} }),
    });
    app = await loadApp(stub);
    repository = await upsertRepository(app.db, { fullName: "octo-org/widgets", installationId: 77 });
    await syncFindings(app.db, repository.id, [issue42("Greeting is missing punctuation")], { kinds: ["issue"] });
    requests = {
      db: app.db,
      agents: createAgentRegistry(loadAgentSettings({ BACKLOG_BOT_AGENTS: "command", BACKLOG_BOT_AGENT_COMMAND: "true" })),
      jobs: createSqliteJobs({ db: app.db, log: silentLog }),
      log: silentLog,
      runner: { enqueue: async () => undefined, abortLocal: () => false },
    };
  });
  afterEach(async () => {
    await app.db.destroy();
    await stub.close();
  });

  it("does not start the issue's finding after the person's PR was closed unmerged, until the issue changes", async () => {
    // A maintainer asks on issue 42; the task has the issue, not the finding.
    await app.receive("issue_comment", payload("issue_comment.created"));
    const [asked] = await tasks();
    expect(asked).toMatchObject({ issue_number: 42, finding_id: null, trigger: "comment", state: "queued" });
    // Its run opened draft PR #7 (the worker's moves), and the maintainer closed it unmerged.
    await claimTask(app.db, asked?.id ?? 0, "worker", 60_000);
    await transition(app.db, asked?.id ?? 0, "pr_open", { actor: "worker", owner: "worker" }, { pr_number: 7 });
    await app.receive(
      "pull_request",
      payload("pull_request.closed", (p) => {
        p.pull_request.merged = false;
        p.pull_request.merged_at = null;
      }),
    );
    expect((await tasks())[0]?.state).toBe("closed");

    const deps = { db: app.db, requests, log: silentLog };
    const now = Date.now();
    const stored = async () => (await getRepository(app.db, "octo-org/widgets")) ?? repository;
    expect(await runAutopilot(deps, await stored(), cfg, new Date(now + DAY))).toEqual([]);
    expect(await tasks()).toHaveLength(1);

    // The issue is retitled (its content, as the finding's content hash sees it): new work, picked.
    await syncFindings(app.db, repository.id, [issue42("Greeting lacks a comma and the exclamation mark")], { kinds: ["issue"] });
    const [picked] = await runAutopilot(deps, await stored(), cfg, new Date(now + 2 * DAY));
    expect(picked).toMatchObject({ issue_number: 42, trigger: "autopilot", state: "queued" });
    expect(picked?.finding_id).not.toBeNull();
    expect(await tasks()).toHaveLength(2);
  });
});
