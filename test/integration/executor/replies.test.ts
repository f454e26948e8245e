import path from "node:path";
import { Octokit } from "@octokit/rest";
import { afterEach, describe, expect, it } from "vitest";
import { addReplyJob, registerReplyJobs } from "../../../src/executor/replies.js";
import { createSqliteJobs } from "../../../src/jobs/sqlite.js";
import { type Db, openDb } from "../../../src/store/db.js";
import { upsertRepository } from "../../../src/store/repositories.js";
import { createTask, getTask } from "../../../src/store/tasks.js";
import { createLogger } from "../../../src/util/logger.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";

const log = createLogger({ level: "silent" });
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

describe("owed replies", () => {
  it("posts a reply owed while the task's reply job is running (its own job was deduped away), each once", async () => {
    const dir = makeTempDir();
    const db: Db = await openDb(path.join(dir, "data"));
    const jobs = createSqliteJobs({ db, log, pollMs: 20 });
    cleanup.push(
      () => removeDir(dir),
      () => db.destroy(),
      () => jobs.stop(100),
    );
    const posted: string[] = [];
    let listing: () => void = () => {};
    const listed = new Promise<void>((resolve) => {
      listing = resolve;
    });
    // GitHub answers the first look for an earlier copy slowly: the second reply is owed meanwhile.
    let looks = 0;
    const stub: GitHubStub = await startGitHubStub({
      "GET /repos/:owner/:repo/issues/:number/comments": async () => {
        if (looks++ === 0) {
          listing();
          await new Promise((resolve) => setTimeout(resolve, 400));
        }
        return { body: [] };
      },
      "POST /repos/:owner/:repo/issues/:number/comments": (req) => {
        posted.push((req.body as { body: string }).body.split("\n")[0] ?? "");
        return { status: 201, body: { id: posted.length } };
      },
    });
    cleanup.push(() => stub.close());
    const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
    const repo = await upsertRepository(db, { fullName: "o/r", installationId: 1 });
    const { task } = await createTask(db, { repositoryId: repo.id, issueNumber: 1, title: "t", requestedBy: "m", trigger: "comment" });
    const owe = (body: string, marker: string) =>
      db
        .updateTable("tasks")
        .set({ reply_pending: JSON.stringify({ body, marker }) })
        .where("id", "=", task.id)
        .execute();
    await owe("first reply", "task-1:failed");
    await registerReplyJobs({ db, jobs, github: { octokit: async () => octokit } as never, log });
    await jobs.start();
    await listed; // the first reply's job is running
    await owe("second reply", "task-1:queued");
    await addReplyJob(jobs, task.id); // as a task's end does: deduped by the running job's key
    await jobs.drain();
    expect(posted).toEqual(["first reply", "second reply"]);
    expect((await getTask(db, task.id))?.reply_pending).toBeNull();
  });
});
