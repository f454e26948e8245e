import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { sql } from "kysely";
import { describe, expect, it, onTestFinished } from "vitest";
import { DEFAULT_CONFIG } from "../../src/config/schema.js";
import { upsertRepository } from "../../src/store/repositories.js";
import { backends } from "../support/backends.js";
import { calls, deliver, makeRemote, payload, startStub } from "./harness.js";
import { type RoleProcess, startRole } from "./processes.js";

/**
 * Web and worker processes against one store (issue 13), real processes from dist/main.js: a web
 * process takes `/agent fix` deliveries over HTTP and only enqueues; workers run the tasks with a
 * command agent that takes about a second. On PostgreSQL: one web, three workers, 50 issues, and
 * one worker killed with SIGKILL mid-run. On SQLite (one machine): one web, one worker, 5 issues.
 * On PostgreSQL a repository scanned every minute also shows that only the leading worker fires
 * the scheduler's slots (src/jobs/leader.ts): each minute's slot is scanned once, not once per worker.
 */
describe.each(backends())("web and worker processes on $name", (backend) => {
  const big = backend.name === "postgres";
  const issues = big ? 50 : 5;
  const workerCount = big ? 3 : 1;

  it(`takes ${issues} /agent fix deliveries on the web process and ends each task exactly once on the workers${big ? ", one worker killed mid-run" : ""}`, async () => {
    const store = await backend.fresh();
    const dir = store.dataDir;
    const remote = makeRemote(dir, { "greet.js": 'export const greet = () => console.log("Hello world");\n' });
    const agent = path.join(dir, "agent.mjs");
    writeFileSync(
      agent,
      `import { readFileSync, writeFileSync } from "node:fs";
readFileSync(0, "utf8");
await new Promise((r) => setTimeout(r, 1000));
writeFileSync("greet.js", readFileSync("greet.js", "utf8").replace("Hello world", "Hello, world!"));
console.log("Changed greet.js");
`,
    );
    const stub = await startStub({ maintainer: "maintain" });
    onTestFinished(() => stub.close());
    // Comments the bot posts are listed afterwards, as on GitHub: its exactly-once replies look
    // for their marker there before posting again (a worker killed between posting and finishing
    // the job must not make a second comment).
    const posted = new Map<string, Array<{ id: number; body: string; user: { login: string; type: string } }>>();
    let commentId = 50_000;
    stub.route("POST /repos/:owner/:repo/issues/:number/comments", (req) => {
      const key = `${req.params.repo}#${req.params.number}`;
      const comment = { id: commentId++, body: (req.body as { body: string }).body, user: { login: "backlog-bot[bot]", type: "Bot" } };
      posted.set(key, [...(posted.get(key) ?? []), comment]);
      return { status: 201, body: comment };
    });
    stub.route("GET /repos/:owner/:repo/issues/:number/comments", (req) => ({
      body: [
        { id: 3000, body: "Seen on Linux too.", user: { login: "reader", type: "User" } },
        { id: 3001, body: "/agent fix\nKeep the change small.", user: { login: "maintainer", type: "User" } },
        ...(posted.get(`${req.params.repo}#${req.params.number}`) ?? []),
      ],
    }));
    // A repository on a one-minute schedule (its config served as GitHub would, and already stored,
    // so every worker schedules it from its first sync).
    const SCHEDULED = "octo-org/scheduled";
    if (big) {
      stub.route("GET /repos/:owner/:repo/contents/:path", (req) =>
        req.params.repo === "scheduled" ? { body: 'schedule: "* * * * *"\n' } : { status: 404, body: { message: "Not Found" } },
      );
      const repo = await upsertRepository(store.db, {
        fullName: SCHEDULED,
        installationId: 77,
        defaultBranch: "main",
        cloneUrl: `file://${remote}`,
      });
      await store.db
        .updateTable("repositories")
        .set({ config: JSON.stringify({ ...DEFAULT_CONFIG, schedule: "* * * * *" }) })
        .where("id", "=", repo.id)
        .execute();
    }
    const processes: RoleProcess[] = [];
    onTestFinished(async () => {
      for (const p of processes) await p.kill9();
    });
    const common = {
      ...(store.databaseUrl && { DATABASE_URL: store.databaseUrl }),
      BACKLOG_BOT_AGENT_COMMAND: `${process.execPath} ${agent}`,
      BACKLOG_BOT_LEASE_S: "5",
    };
    const dataDirOf = (name: string) => {
      // On PostgreSQL every process has a disk of its own; on SQLite they share the store's directory.
      if (!big) return dir;
      const own = path.join(dir, name);
      mkdirSync(own, { recursive: true });
      return own;
    };
    const web = await startRole(stub, "web", { ...common, BACKLOG_BOT_DATA_DIR: dataDirOf("web") });
    processes.push(web);
    const workers: RoleProcess[] = [];
    for (let i = 0; i < workerCount; i++) {
      const worker = await startRole(stub, "worker", { ...common, BACKLOG_BOT_DATA_DIR: dataDirOf(`worker-${i}`) });
      workers.push(worker);
      processes.push(worker);
    }

    for (let n = 1; n <= issues; n++) {
      const body = payload("issue_comment.created", (p) => {
        // One repository per issue (all cloned from one remote): the per-repository limits
        // (prHourlyLimit, prConcurrentLimit) then let every request become a task at once.
        p.repository.clone_url = `file://${remote}`;
        p.repository.full_name = `octo-org/widgets-${n}`;
        p.repository.name = `widgets-${n}`;
        p.repository.id = 900_000 + n;
        p.issue.number = n;
      });
      expect((await deliver(web, "issue_comment", body)).status).toBe(202);
    }

    const db = store.db;
    const taskRows = () => db.selectFrom("tasks").selectAll().orderBy("issue_number").execute();
    const until = async (what: string, check: () => Promise<boolean>, ms = Number(process.env.ROLES_TIMEOUT_MS ?? 240_000)) => {
      const deadline = Date.now() + ms;
      while (!(await check())) {
        if (Date.now() > deadline) {
          // The tasks still open first: with 50 rows, the ones that matter must not be cut off.
          const all = await taskRows().catch(() => []);
          const open = all.filter((t) => !["pr_open", "merged", "closed", "no_changes", "failed", "cancelled"].includes(t.state));
          const rows = `${all.length} rows, open: ${JSON.stringify(open).slice(0, 3000)}`;
          const logs = processes.map((p) => p.output().slice(-2500)).join("\n----\n");
          const left = big
            ? await sql`select id, task_identifier, queue_name, key, payload, attempts, max_attempts, locked_by, locked_at, run_at, last_error from graphile_worker.jobs where task_identifier <> 'dashboard.sync'`.execute(
                db,
              )
            : await sql`select kind, state, attempts, run_at, last_error from jobs`.execute(db);
          console.error(`jobs left: ${JSON.stringify(left.rows).slice(0, 4000)}`);
          throw new Error(`timed out waiting for ${what}\ntasks: ${rows}\n${logs}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    let victimTask: number | undefined;
    if (big) {
      // Kill the first worker while it runs a task (its lease names its pid).
      const victim = workers[0] as RoleProcess;
      await until("the first worker to run a task", async () => {
        const running = (await taskRows()).find((t) => t.state === "running" && t.lease_owner?.split(":")[1] === String(victim.pid));
        victimTask = running?.id;
        return running !== undefined;
      });
      await victim.kill9();
    }

    const ended = new Set(["pr_open", "merged", "closed", "no_changes", "failed", "cancelled"]);
    await until(`all ${issues} tasks to end`, async () => {
      const rows = await taskRows();
      return rows.length === issues && rows.every((t) => ended.has(t.state));
    });
    const rows = await taskRows();
    // One task per issue, each ended with its PR.
    expect(rows.map((t) => t.issue_number)).toEqual(Array.from({ length: issues }, (_, i) => i + 1));
    expect(rows.map((t) => t.state)).toEqual(rows.map(() => "pr_open"));
    // One branch and one pull request each.
    const prs = calls(stub, "POST", /\/repos\/octo-org\/widgets-\d+\/pulls$/).map((r) => (r.body as { head: string }).head);
    expect(prs.toSorted()).toEqual(rows.map((t) => t.branch).toSorted());
    expect(new Set(prs).size).toBe(issues);
    expect(new Set(rows.map((t) => t.pr_url)).size).toBe(issues);
    // Every issue got its one final comment: the PR link, once (replies are jobs of their own).
    const finals = (task: (typeof rows)[number]) =>
      calls(stub, "POST", new RegExp(`/widgets-${task.issue_number}/issues/${task.issue_number}/comments$`)).filter((r) =>
        (r.body as { body: string }).body.includes(task.pr_url ?? "no pull request"),
      );
    await until("every final comment", async () => rows.every((task) => finals(task).length > 0));
    if (victimTask !== undefined) {
      // The killed worker's task was taken over and run again, not twice to the end.
      expect(rows.find((t) => t.id === victimTask)?.attempts).toBeGreaterThanOrEqual(2);
    }
    // No job stuck: none running, none dead, none due for more than 5 s and not started (jobs
    // scheduled for later, such as a repository's next scan, are not stuck).
    const stuck = async () => {
      const cutoff = new Date(Date.now() - 5000).toISOString();
      const result = big
        ? await sql<{ n: number }>`select count(*) as n from graphile_worker.jobs
            where locked_at is not null or attempts >= max_attempts or run_at < ${cutoff}::timestamptz`.execute(db)
        : await sql<{ n: number }>`select count(*) as n from jobs where state != 'waiting' or run_at < ${cutoff}`.execute(db);
      return Number(result.rows[0]?.n);
    };
    await until("the jobs to settle", async () => (await stuck()) === 0, 120_000);
    for (const task of rows) {
      const bodies = finals(task).map((r) => (r.body as { body: string }).body);
      expect(
        bodies,
        `issue #${task.issue_number} (task ${task.id}, attempts ${task.attempts}, killed worker's task ${victimTask}): ${JSON.stringify(bodies)}`,
      ).toHaveLength(1);
    }
    if (big) {
      // The scheduler fired each slot once: the TODO scanner's scans of the scheduled repository,
      // by the minute they started in, across all four processes (the killed one's output included).
      const slots = () => {
        const perMinute = new Map<number, number>();
        for (const line of processes.flatMap((p) => p.output().split("\n"))) {
          // Only whole lines (the last one may still be arriving).
          if (!line.includes('"scanner finished"') || !line.includes(SCHEDULED) || !line.endsWith("}")) continue;
          const entry = JSON.parse(line) as { msg: string; scanner: string; repo: string; time: number; ms: number };
          if (entry.msg !== "scanner finished" || entry.scanner !== "todo" || entry.repo !== SCHEDULED) continue;
          const minute = Math.floor((entry.time - entry.ms) / 60_000);
          perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
        }
        return perMinute;
      };
      await until("a scheduled scan", async () => slots().size >= 1, 150_000);
      const counts = [...slots().values()];
      expect(counts, `scans per minute: ${JSON.stringify([...slots()])}`).toEqual(counts.map(() => 1));
    }
  }, 600_000);
});
