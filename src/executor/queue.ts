import { randomUUID } from "node:crypto";
import PQueue from "p-queue";
import { claimNextTask, recoverExpiredTasks, renewLease } from "../store/tasks.js";
import { type ExecutorDeps, runTask } from "./run-task.js";

/**
 * Runs queued tasks off the webhook path. The queue itself lives in SQLite (`tasks`); this class
 * only decides when to claim the next one. Each claim writes a lease that a heartbeat renews; if
 * the process dies, the lease expires and `recoverExpiredTasks` puts the task back (or fails it
 * after `maxAttempts`), so a crash neither loses nor doubles a task.
 */
export class Executor {
  /** Identifies this process's leases. */
  readonly owner = `${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly queue: PQueue;
  private readonly shutdown = new AbortController();
  private pumping: Promise<void> | undefined;
  private again = false;
  private recoveryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ExecutorDeps) {
    this.queue = new PQueue({ concurrency: deps.settings.concurrency });
    // 'next' fires after a finished job has left `pending`: only then is its slot free to claim again.
    this.queue.on("next", () => this.enqueue());
  }

  /** Recovers tasks a dead process left behind, then starts claiming; re-checks leases every lease period. */
  async start(): Promise<void> {
    await this.recover();
    this.recoveryTimer = setInterval(() => {
      void this.recover().catch((err) => this.deps.log.error({ err }, "lease recovery failed"));
    }, this.deps.settings.leaseMs);
    this.recoveryTimer.unref();
    this.enqueue();
  }

  /** Wakes the executor: claims as many queued tasks as there are free slots. Safe to call often. */
  enqueue(): void {
    if (this.shutdown.signal.aborted) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .catch((err) => this.deps.log.error({ err }, "could not claim tasks"))
      .finally(() => {
        this.pumping = undefined;
        if (this.again) {
          this.again = false;
          this.enqueue();
        }
      });
  }

  /** Resolves when no task is running or waiting to be claimed in this process (for tests and the CLI). */
  async idle(): Promise<void> {
    while (this.pumping || this.queue.size > 0 || this.queue.pending > 0) {
      await this.pumping;
      await this.queue.onIdle();
    }
  }

  /**
   * Stops claiming, signals running agents to stop, and waits for them. Interrupted tasks return
   * to `queued` (see runTask), so the next start picks them up.
   */
  async stop(): Promise<void> {
    this.shutdown.abort();
    clearInterval(this.recoveryTimer);
    await this.pumping;
    await this.queue.onIdle();
  }

  private async pump(): Promise<void> {
    const { db, settings } = this.deps;
    while (!this.shutdown.signal.aborted && this.queue.pending + this.queue.size < settings.concurrency) {
      const task = await claimNextTask(db, this.owner, settings.leaseMs);
      if (!task) return;
      this.deps.log.info({ taskId: task.id, attempt: task.attempts }, "task claimed");
      void this.queue.add(async () => {
        const heartbeat = setInterval(() => {
          void renewLease(db, task.id, this.owner, settings.leaseMs).catch(() => {});
        }, settings.leaseMs / 3);
        try {
          await runTask(this.deps, task, this.shutdown.signal);
        } finally {
          clearInterval(heartbeat);
        }
      });
    }
  }

  private async recover(): Promise<void> {
    const { requeued, failed } = await recoverExpiredTasks(this.deps.db, this.deps.settings.maxAttempts);
    for (const task of requeued) this.deps.log.warn({ taskId: task.id, attempts: task.attempts }, "task lease expired; requeued");
    for (const task of failed) this.deps.log.error({ taskId: task.id, attempts: task.attempts }, "task lease expired too often; failed");
    if (requeued.length > 0) this.enqueue();
  }
}
