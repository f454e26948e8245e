import cron, { type ScheduledTask } from "node-cron";
import PQueue from "p-queue";
import { lastValidConfig } from "../config/load.js";
import type { GitHubAccess } from "../github/access.js";
import type { Db } from "../store/db.js";
import { getRepository, getRepositoryById, listRepositories } from "../store/repositories.js";
import type { Repository } from "../store/schema.js";
import { BacklogBotError } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import { scheduleOf } from "./cron.js";
import { type PushScan, scanPush } from "./push-scan.js";
import { type ScanReport, type ScanRepositoryOptions, scanRepository } from "./run-scan.js";

/** How often (ms) the cron jobs are reconciled with the stored repositories and their configs. */
export const DEFAULT_SYNC_EVERY_MS = 10 * 60 * 1000;

/** What the scheduler needs. */
export interface SchedulerOptions {
  db: Db;
  access: GitHubAccess;
  dataDir: string;
  log: Logger;
  syncEveryMs?: number;
  /** Replaces the scheduled full scan of one repository (tests). */
  runScan?: (repository: Repository) => Promise<ScanReport | undefined>;
  /** Called after each full or push scan that completed (the dashboard re-renders); a rejection is logged. */
  afterScan?: (repository: Repository) => Promise<void>;
  /**
   * Whether this process fires scheduled scans: with several worker processes on one PostgreSQL, only
   * the one holding the scheduler's advisory lock does, so each slot fires once (src/jobs/leader.ts).
   * Default: always.
   */
  isLeader?: () => boolean;
}

/** Runs each repository's scans on its schedule and the webhooks' background work, one repository at a time per installation. */
export interface Scheduler {
  /** Schedules every stored repository and starts reconciling every `syncEveryMs`. */
  start(): Promise<void>;
  /** Stops the cron jobs, drops queued work, and waits for the running job of each installation. */
  stop(): Promise<void>;
  /**
   * Re-reads repositories and their last valid configs: new ones are scheduled, changed schedules
   * moved, removed ones and those of a suspended installation (`suspended_at`) dropped.
   */
  sync(): Promise<void>;
  /**
   * Queues a full scan of the repository now; resolves with its report (undefined, and no scan, while
   * its installation is suspended).
   * @throws the scan's error (for a CLI or a test to see); the queue goes on.
   */
  scanNow(repository: Repository | string): Promise<ScanReport | undefined>;
  /**
   * Queues the TODO rescan of a push (see `planPush`) on the repository's queue; resolves when it is done.
   * @throws the scan's error (a clone that failed, ...), after logging it, so the delivery's job records it and retries.
   */
  enqueuePushScan(repository: Repository, push: PushScan): Promise<void>;
  /**
   * Queues any background job of a repository (check outcomes, ...); resolves when it is done.
   * @throws the job's error, after logging it (the queue goes on), so the delivery's job records it and retries.
   */
  enqueue(repository: Repository, label: string, job: () => Promise<unknown>): Promise<void>;
  /** Resolves when every queue is empty and idle (tests). */
  onIdle(): Promise<void>;
  /** Repository full name -> the cron expression and time zone it is scheduled on. */
  schedules(): Map<string, { cron: string; timezone: string }>;
}

/** Creates the scheduler; nothing runs until `start()`. */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { db, access, log } = options;
  const queues = new Map<string, PQueue>();
  const jobs = new Map<string, { task: ScheduledTask; cron: string; timezone: string }>();
  const scanning = new Set<number>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // node-cron logs to the console by default; keep its lines in ours.
  const cronLog = log.child({ component: "node-cron" });
  const cronLogger = {
    info: (m: string) => cronLog.info(m),
    warn: (m: string) => cronLog.warn(m),
    error: (m: string | Error, err?: Error) => cronLog.error({ err: err ?? m }, String(m)),
    debug: (m: string | Error, err?: Error) => cronLog.debug({ err }, String(m)),
  };

  // One queue per installation, concurrency 1: one repository at a time per installation, and
  // every job of a repository (scheduled scan, push scan, check details) serialised.
  const queueOf = (repository: Repository) => {
    const key = repository.installation_id === null ? `repo:${repository.full_name}` : `installation:${repository.installation_id}`;
    let queue = queues.get(key);
    if (!queue) {
      queue = new PQueue({ concurrency: 1 });
      queues.set(key, queue);
    }
    return queue;
  };
  const cacheScope = (r: Repository) => (r.installation_id === null ? "token" : `installation:${r.installation_id}`);
  const tokenFor = (r: Repository) => async () =>
    r.clone_url === null || /^https?:/.test(r.clone_url) ? access.token(r.installation_id) : undefined;

  /** What every scan of `repository` needs: its client, ETag scope, token source and logger. */
  const scanTarget = async (repository: Repository, repoLog: Logger): Promise<ScanRepositoryOptions> => ({
    db,
    api: await access.octokit(repository.installation_id),
    repository,
    dataDir: options.dataDir,
    cacheScope: cacheScope(repository),
    token: tokenFor(repository),
    log: repoLog,
  });

  const fullScan = async (repository: Repository): Promise<ScanReport | undefined> => {
    const fresh = (await getRepositoryById(db, repository.id)) ?? repository;
    if (fresh.suspended_at !== null) {
      // GitHub mints no token for a suspended installation: `installation.unsuspend` scans it again.
      log.info({ repo: fresh.full_name, suspendedAt: fresh.suspended_at }, "installation suspended; scan skipped");
      return undefined;
    }
    const report = options.runScan
      ? await options.runScan(fresh)
      : await scanRepository(await scanTarget(fresh, log.child({ repo: fresh.full_name })));
    await afterScan(fresh);
    return report;
  };
  const afterScan = async (repository: Repository) => {
    await options
      .afterScan?.(repository)
      .catch((error: unknown) => log.warn({ err: error, repo: repository.full_name }, "after-scan hook failed"));
  };

  const scheduledScan = (fullName: string) => async () => {
    if (options.isLeader && !options.isLeader()) return;
    const repository = await getRepository(db, fullName);
    // Suspended since the last sync (in this process or another): nothing until it is unsuspended.
    if (!repository || stopped || repository.suspended_at !== null) return;
    if (scanning.has(repository.id)) {
      log.info({ repo: fullName }, "previous scan still queued or running; skipping this slot");
      return;
    }
    scanning.add(repository.id);
    queueOf(repository)
      .add(() => fullScan(repository))
      .catch((error: unknown) => log.error({ err: error, repo: fullName }, "scheduled scan failed; retrying at the next slot"))
      .finally(() => scanning.delete(repository.id));
  };

  const scheduler: Scheduler = {
    async start() {
      stopped = false;
      await scheduler.sync();
      timer = setInterval(
        () => void scheduler.sync().catch((e: unknown) => log.error({ err: e }, "schedule sync failed")),
        options.syncEveryMs ?? DEFAULT_SYNC_EVERY_MS,
      );
      timer.unref();
      log.info({ repositories: jobs.size }, "scheduler started");
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      for (const job of jobs.values()) await job.task.destroy();
      jobs.clear();
      for (const queue of queues.values()) queue.clear();
      await Promise.all([...queues.values()].map((q) => q.onIdle()));
    },
    async sync() {
      if (stopped) return;
      const repositories = await listRepositories(db);
      const seen = new Set<string>();
      for (const repository of repositories) {
        // A suspended installation's repositories are not scheduled (`installation.unsuspend` syncs again).
        if (repository.suspended_at !== null) continue;
        seen.add(repository.full_name);
        const wanted = scheduleOf(repository.full_name, lastValidConfig(repository));
        const current = jobs.get(repository.full_name);
        if (current && current.cron === wanted.cron && current.timezone === wanted.timezone) continue;
        if (current) await current.task.destroy();
        const task = cron.createTask(wanted.cron, scheduledScan(repository.full_name), {
          timezone: wanted.timezone,
          name: repository.full_name,
          logger: cronLogger,
        });
        await task.start();
        jobs.set(repository.full_name, { task, ...wanted });
      }
      for (const [name, job] of jobs) {
        if (seen.has(name)) continue;
        await job.task.destroy();
        jobs.delete(name);
      }
    },
    async scanNow(repository) {
      const row = typeof repository === "string" ? await getRepository(db, repository) : repository;
      if (!row) throw new BacklogBotError("INVALID_SETTINGS", `unknown repository ${String(repository)}`);
      return queueOf(row).add(() => fullScan(row), { throwOnTimeout: true });
    },
    enqueuePushScan(repository, push) {
      return scheduler.enqueue(repository, "push scan", async () => {
        const fresh = (await getRepositoryById(db, repository.id)) ?? repository;
        await scanPush({ ...(await scanTarget(fresh, log.child({ repo: fresh.full_name, after: push.after }))), push });
        await afterScan(fresh);
        if (push.configChanged) await scheduler.sync();
      });
    },
    async enqueue(repository, label, job) {
      // Added before the first await, so `onIdle()` called right after sees the job.
      const queued = queueOf(repository).add(job);
      try {
        await queued;
      } catch (error) {
        log.error({ err: error, repo: repository.full_name, job: label }, "background job failed");
        throw error;
      }
    },
    async onIdle() {
      await Promise.all([...queues.values()].map((q) => q.onIdle()));
    },
    schedules() {
      return new Map([...jobs].map(([name, job]) => [name, { cron: job.cron, timezone: job.timezone }]));
    },
  };
  return scheduler;
}
