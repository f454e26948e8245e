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
 * Circuit breakers per agent (`agent:<name>`) and per repository (`repo:<id>`), stored so that every
 * process sees them: closed → open after `failures` consecutive infrastructure failures (a model
 * service refusing, a clone failing) → half-open after `cooldownMs`, when one trial run decides
 * (success closes it, failure opens it again). The pattern is Nygard's, as Hystrix/opossum apply it.
 */
export class CircuitBreakers {
  constructor(
    private readonly db: Db,
    private readonly settings: BreakerSettings,
    private readonly log: Logger,
  ) {}

  /** Whether work guarded by `key` may run now; moves an open breaker past its cool-down to half-open (one trial). */
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
    // Open, or half-open with its trial already under way.
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
