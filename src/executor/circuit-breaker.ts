import { type Db, now } from "../store/db.js";
import type { Logger } from "../util/logger.js";

/** Breaker settings: how many consecutive infrastructure failures open it, and for how long (ms). */
export interface BreakerSettings {
  failures: number;
  cooldownMs: number;
}

/** What a breaker says about trying now. */
export type BreakerVerdict = { allowed: true; trial: boolean } | { allowed: false; retryAt: Date; lastError: string | null };

/**
 * How often (ms) a run turned away by a half-open breaker asks again, at most: its trial may close
 * the breaker long before the trial's bound (`cooldownMs`) runs out. One deferred job per task per
 * 30 s is the price; a deferral costs the task no attempt (task-jobs.ts).
 */
const HALF_OPEN_POLL_MS = 30_000;

/**
 * Circuit breakers per agent (`agent:<name>`) and per repository (`repo:<id>`), stored so that every
 * process sees them: closed → open after `failures` consecutive infrastructure failures (a model
 * service refusing, a clone failing) → half-open after `cooldownMs`, when one trial run decides
 * (success closes it, failure opens it again). The pattern is Nygard's, as Hystrix/opossum apply it.
 *
 * The holder of a trial must end it: `success`, `failure`, or `release` when its run ended without
 * saying anything of the guarded thing (cancelled, shut down, lease lost). A trial that reports
 * none of them within `cooldownMs` of its grant (its worker died) has expired: the next `check`
 * grants a new one, so a breaker is never half-open for good. While half-open, the row's
 * `updated_at` is the time the current trial was granted.
 */
export class CircuitBreakers {
  constructor(
    private readonly db: Db,
    private readonly settings: BreakerSettings,
    private readonly log: Logger,
  ) {}

  /**
   * Whether work guarded by `key` may run now. Moves an open breaker past its cool-down to half-open
   * and grants the one trial (`trial: true`); grants a new trial when the current one has not
   * reported within `cooldownMs` of its grant. Turned away, `retryAt` is when asking again can help:
   * the end of the cool-down (open), or the earlier of the trial's expiry and 30 s from now (half-open);
   * never sooner than 1 s from now.
   */
  async check(key: string): Promise<BreakerVerdict> {
    const row = await this.db.selectFrom("circuit_breakers").selectAll().where("key", "=", key).executeTakeFirst();
    if (!row || row.state === "closed") return { allowed: true, trial: false };
    const reopenAt = Date.parse(row.opened_at ?? now()) + this.settings.cooldownMs;
    if (row.state === "open" && Date.now() >= reopenAt) {
      const moved = await this.db
        .updateTable("circuit_breakers")
        .set({ state: "half_open", updated_at: now() })
        .where("key", "=", key)
        .where("state", "=", "open")
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) > 0) {
        this.log.info({ breaker: key }, "circuit half-open: one trial run");
        return { allowed: true, trial: true };
      }
    }
    if (row.state === "half_open") {
      const trialExpiresAt = Date.parse(row.updated_at) + this.settings.cooldownMs;
      if (Date.now() >= trialExpiresAt) {
        // The trial never reported (its worker died, or its run ended on a path that said nothing): a new one.
        const regranted = await this.db
          .updateTable("circuit_breakers")
          .set({ updated_at: now() })
          .where("key", "=", key)
          .where("state", "=", "half_open")
          .where("updated_at", "=", row.updated_at)
          .executeTakeFirst();
        if (Number(regranted.numUpdatedRows) > 0) {
          this.log.warn({ breaker: key, grantedAt: row.updated_at }, "circuit half-open: the trial never reported; a new trial run");
          return { allowed: true, trial: true };
        }
      }
      const askAgain = Math.min(trialExpiresAt, Date.now() + HALF_OPEN_POLL_MS);
      return { allowed: false, retryAt: new Date(Math.max(askAgain, Date.now() + 1000)), lastError: row.last_error };
    }
    // Open, its cool-down not over (or another process just took the trial).
    return { allowed: false, retryAt: new Date(Math.max(reopenAt, Date.now() + 1000)), lastError: row.last_error };
  }

  /** A run guarded by `key` worked: the breaker closes. */
  async success(key: string): Promise<void> {
    const result = await this.db
      .updateTable("circuit_breakers")
      .set({ state: "closed", failures: 0, opened_at: null, updated_at: now() })
      .where("key", "=", key)
      .where((eb) => eb.or([eb("state", "!=", "closed"), eb("failures", ">", 0)]))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) this.log.info({ breaker: key }, "circuit closed");
  }

  /**
   * The half-open trial of `key` ended without a verdict on `key` (cancelled, shut down, lease lost,
   * or a failure before the guarded thing was reached): the breaker goes back to open with its
   * cool-down already over, so the next `check` grants a new trial at once. Counts nothing; does
   * nothing unless the breaker is half-open.
   */
  async release(key: string): Promise<void> {
    const result = await this.db
      .updateTable("circuit_breakers")
      .set({ state: "open", updated_at: now() })
      .where("key", "=", key)
      .where("state", "=", "half_open")
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) this.log.info({ breaker: key }, "circuit trial given back without a verdict");
  }

  /** An infrastructure failure of `key`: counts it, and opens the breaker at the threshold (or at once from half-open). */
  async failure(key: string, error: string): Promise<void> {
    const at = now();
    const row = await this.db
      .insertInto("circuit_breakers")
      .values({ key, state: "closed", failures: 1, last_error: error.slice(0, 1000), updated_at: at })
      .onConflict((oc) =>
        oc
          .column("key")
          .doUpdateSet((eb) => ({ failures: eb("circuit_breakers.failures", "+", 1), last_error: error.slice(0, 1000), updated_at: at })),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    if (row.state === "half_open" || (row.state === "closed" && row.failures >= this.settings.failures)) {
      await this.db.updateTable("circuit_breakers").set({ state: "open", opened_at: at }).where("key", "=", key).execute();
      this.log.warn({ breaker: key, failures: row.failures, error }, "circuit open");
    }
  }

  /** Every breaker that is not closed, for the operator (`/ready`, the CLI, the dashboard). */
  async notClosed(): Promise<Array<{ key: string; state: string; failures: number; lastError: string | null }>> {
    const rows = await this.db.selectFrom("circuit_breakers").selectAll().where("state", "!=", "closed").execute();
    return rows.map((r) => ({ key: r.key, state: r.state, failures: r.failures, lastError: r.last_error }));
  }
}
