import { afterEach, describe, expect, it } from "vitest";
import type { TaskRun } from "../../../src/executor/run-task.js";
import { promptSourcesFor } from "../../../src/executor/task-prompt.js";
import { scanTodos } from "../../../src/scanners/todo.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { syncFindings } from "../../../src/store/findings.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { commitFiles, initRepo, makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const cleanup: string[] = [];
const databases: Db[] = [];
afterEach(async () => {
  for (const db of databases.splice(0)) await db.destroy();
  for (const dir of cleanup.splice(0)) removeDir(dir);
});

describe("promptSourcesFor a TODO finding", () => {
  it("names the true author and date of a line older than the scan's horizon, which the scan stored only as a bound", async () => {
    const repo = initRepo();
    const data = makeTempDir();
    cleanup.push(repo, data);
    commitFiles(
      repo,
      { "src/a.c": "int x;\n// TODO: old work\n" },
      { name: "Ada Old", email: "ada@example.com", date: "2019-02-03T04:05:06Z" },
    );
    commitFiles(repo, { "src/b.c": "// FIXME: new work\n" }, { name: "Bo New", email: "bo@example.com", date: "2026-11-20T00:00:00Z" });
    const db = await openDb(data);
    databases.push(db);
    const repository = await upsertRepository(db, { fullName: "o/r" });
    const scan = await scanTodos({ cwd: repo, now: new Date("2026-12-01T00:00:00Z") });
    await syncFindings(db, repository.id, scan.findings, scan.scope);
    const rows = await db.selectFrom("findings").selectAll().orderBy("path").execute();
    const old = rows.find((r) => r.path === "src/a.c");
    expect(JSON.parse(old?.signals ?? "{}")).toMatchObject({ authoredBefore: true }); // the scan did not walk back to 2019

    const sources = async (findingId: number) =>
      promptSourcesFor({
        task: { finding_id: findingId, instructions: null },
        repo: repository,
        github: { octokit: {}, owner: "o", name: "r" },
        deps: { db },
        worktree: repo,
      } as unknown as TaskRun);
    expect(await sources(old?.id as number)).toMatchObject({
      kind: "todo",
      finding: { path: "src/a.c", line: 2, title: "old work", author: "Ada Old", authoredAt: "2019-02-03T04:05:06.000Z" },
    });
    const recent = rows.find((r) => r.path === "src/b.c");
    expect(await sources(recent?.id as number)).toMatchObject({
      finding: { path: "src/b.c", line: 1, author: "Bo New", authoredAt: "2026-11-20T00:00:00.000Z" },
    });
  });
});
