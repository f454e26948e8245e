import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { printBacklog } from "../../../src/cli/print-backlog.js";
import { parseConfigText } from "../../../src/config/parse.js";
import { renderDashboard } from "../../../src/dashboard/index.js";
import { createAgentRegistry } from "../../../src/executor/agents/registry.js";
import { loadAgentSettings } from "../../../src/executor/agents/settings.js";
import type { RequestDeps } from "../../../src/executor/requests.js";
import { rankBacklog } from "../../../src/prioritizer/index.js";
import { runAutopilot } from "../../../src/scheduler/autopilot.js";
import { loadDashboardState } from "../../../src/scheduler/dashboard-state.js";
import { planPush, scanPush } from "../../../src/scheduler/push-scan.js";
import { rankingOptionsFor, rankRepositoryBacklog } from "../../../src/scheduler/ranked-backlog.js";
import { scanRepository } from "../../../src/scheduler/run-scan.js";
import { listOpenFindings } from "../../../src/store/findings.js";
import { getGitAttributes } from "../../../src/store/git-attributes.js";
import { getRepository, upsertRepository } from "../../../src/store/repositories.js";
import type { Repository } from "../../../src/store/schema.js";
import { cloneBare, commitFiles, git, initRepo, makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { backends } from "../../support/backends.js";
import { fastOctokit, silentLog } from "../support/env.js";
import { routeConfig, type StatusLog } from "../support/issue-routes.js";
import { API_TOKEN, startWeb, type WebUnderTest } from "../web/support.js";

const CONFIG = 'scanners: [todo]\ntodo:\n  include: ["third/ours/**"]\nprHourlyLimit: 0\nautopilot: { enabled: true, maxTasksPerDay: 1 }\n';
const ATTRIBUTES = "# Linguist overrides\nlib/gen/** linguist-generated\nthird/** linguist-vendored\n";

/** A row as every surface is compared: rank, title, score to two decimals, and whether it was demoted. */
type Row = [number, string, number, string | undefined];
const row = (r: { rank: number; title: string; score: number; breakdown: { signal: string; reason: string }[] }): Row => [
  r.rank,
  r.title,
  Math.round(r.score * 100) / 100,
  r.breakdown.find((p) => p.signal === "vendored" || p.signal === "generated")?.reason,
];

/**
 * The live app ranks with the repository's own `.gitattributes` and `todo.include`, and every
 * surface (dashboard, web API, autopilot, the CLI's options) shows one and the same ranking.
 */
describe.each(backends())("one ranking on every surface, with .gitattributes and include, on $name", (backend) => {
  let web: WebUnderTest;
  let stub: GitHubStub;
  let work: string;
  let remote: string;
  let dataDir: string;
  let repository: Repository;

  const scanTarget = async () => ({
    db: web.db,
    api: fastOctokit(stub.baseUrl),
    repository: (await getRepository(web.db, "o/a")) as Repository,
    dataDir,
    cacheScope: "installation:7",
    token: async () => undefined,
    log: silentLog,
  });
  const config = () => {
    const parsed = parseConfigText(CONFIG);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.config;
  };
  const apiRows = async (): Promise<Row[]> => {
    const res = await fetch(`${web.url}/api/v1/repositories/o/a/backlog?limit=200`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: Parameters<typeof row>[0][] }).items.map(row);
  };
  /** `backlog-bot backlog --repo o/a --json`, in process: its printed rows. */
  const cliJson = async (repositoryId: number): Promise<Parameters<typeof row>[0][]> => {
    let out = "";
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      await printBacklog(web.db, { repositoryId, json: true, limit: 50 });
    } finally {
      write.mockRestore();
    }
    return JSON.parse(out);
  };
  /** The same backlog from the dashboard, the API and the CLI; returns it after checking they agree. */
  const everySurface = async (): Promise<Row[]> => {
    const now = new Date();
    const fresh = (await getRepository(web.db, "o/a")) as Repository;
    const dashboard = (await loadDashboardState(web.db, fresh, config(), now)).backlog.map(row);
    const api = await apiRows();
    const cli = (await cliJson(fresh.id)).map(row);
    expect(api).toEqual(dashboard);
    expect(cli).toEqual(dashboard);
    return dashboard;
  };

  beforeAll(async () => {
    // The web harness's store: o/a has seeded TODO findings (resolved by the scan below) and a failed
    // task, which gives every surface the same outcome factor to apply.
    web = await startWeb({}, backend);
    stub = await startGitHubStub();
    routeConfig(stub, () => CONFIG, { statuses: [] } satisfies StatusLog);
    work = initRepo();
    commitFiles(work, {
      ".gitattributes": ATTRIBUTES,
      "src/main.ts": "// FIXME: first-party fix\nexport const a = 1;\n",
      "third/lib/vendor.ts": "// FIXME: vendored fix\nexport const b = 2;\n",
      "third/ours/patch.ts": "// TODO: our patch inside the vendored tree\nexport const c = 3;\n",
      "lib/gen/out.ts": "// FIXME: generated fix\nexport const d = 4;\n",
    });
    remote = cloneBare(work);
    dataDir = makeTempDir();
    repository = await upsertRepository(web.db, { fullName: "o/a", cloneUrl: remote, defaultBranch: "main" });
    const report = await scanRepository(await scanTarget());
    expect(report.scanners.todo).toMatchObject({ added: 4, resolved: 5 });
  });
  afterAll(async () => {
    await web?.close();
    await stub?.close();
    for (const dir of [work, remote, dataDir]) if (dir) removeDir(dir);
  });

  it("stores the scanned commit's .gitattributes and ranks with it: generated skipped, vendored demoted, included first-party", async () => {
    const stored = await getGitAttributes(web.db, repository.id);
    expect(stored).toMatchObject({ commitId: git(work, ["rev-parse", "HEAD"]).trim(), content: ATTRIBUTES });
    const rows = await everySurface();
    expect(rows.map(([rank, title, , demoted]) => [rank, title, demoted])).toEqual([
      [1, "first-party fix", undefined],
      [2, "our patch inside the vendored tree", undefined],
      [3, "vendored fix", "linguist-vendored in .gitattributes"],
    ]);
    // The generated TODO is stored (the scanner found it) but in no backlog.
    expect((await listOpenFindings(web.db, repository.id)).map((f) => f.title)).toContain("generated fix");
    const body = renderDashboard(await loadDashboardState(web.db, repository, config(), new Date()));
    expect(body).toContain("first-party fix");
    expect(body).toContain("vendored fix");
    expect(body).not.toContain("generated fix");
    expect(body.indexOf("first-party fix")).toBeLessThan(body.indexOf("our patch inside"));
    expect(body.indexOf("our patch inside")).toBeLessThan(body.indexOf("vendored fix"));
    // `todo.vendored: skip` leaves vendored code out; the included tree stays.
    const skip = { ...config(), todo: { ...config().todo, vendored: "skip" as const } };
    const skipped = rankBacklog(
      await listOpenFindings(web.db, repository.id),
      new Date(),
      await rankingOptionsFor(web.db, repository.id, skip),
    );
    expect(skipped.map((r) => r.title)).toEqual(["first-party fix", "our patch inside the vendored tree"]);
  });

  it("autopilot and dashboard ticks rank the same way: autopilot picks the API's first row", async () => {
    const rows = await rankRepositoryBacklog(web.db, repository, config(), new Date());
    const [first] = await apiRows();
    expect(rows[0]?.title).toBe(first?.[1]);
    const agents = createAgentRegistry(loadAgentSettings({ BACKLOG_BOT_AGENTS: "command", BACKLOG_BOT_AGENT_COMMAND: "true" }));
    const requests: RequestDeps = {
      db: web.db,
      agents,
      jobs: { add: async () => "1" } as unknown as RequestDeps["jobs"],
      log: silentLog,
      runner: { enqueue: async () => {}, abortLocal: () => false },
    };
    const [task] = await runAutopilot({ db: web.db, requests, log: silentLog }, repository, config());
    expect(task?.title).toBe("first-party fix");
    await web.db
      .deleteFrom("tasks")
      .where("id", "=", task?.id ?? 0)
      .execute();
  });

  it("a push that changes .gitattributes stores it again, and every surface follows", async () => {
    commitFiles(work, { ".gitattributes": "lib/gen/** linguist-generated\n" }, undefined, "third/ is ours now");
    const before = git(remote, ["rev-parse", "main"]).trim();
    git(work, ["push", "-q", remote, "main"]);
    const after = git(remote, ["rev-parse", "main"]).trim();
    const push = planPush(repository.id, { before, after, commits: [{ modified: [".gitattributes"] }] });
    await scanPush({ ...(await scanTarget()), push });
    expect(await getGitAttributes(web.db, repository.id)).toMatchObject({ commitId: after, content: "lib/gen/** linguist-generated\n" });
    const rows = await everySurface();
    // No longer vendored: the FIXME outranks the TODOs (same age, same outcome factor).
    expect(rows.map(([rank, title, , demoted]) => [rank, title, demoted])).toEqual([
      [1, "vendored fix", undefined],
      [2, "first-party fix", undefined],
      [3, "our patch inside the vendored tree", undefined],
    ]);
  });
});
