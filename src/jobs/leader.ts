import pg from "pg";
import type { Logger } from "../util/logger.js";

/**
 * Who fires the scheduler's ticks when several processes share one PostgreSQL store (issue 13:
 * "the scheduler fires once per tick across all processes, never once per process"). Each process
 * asks; exactly one holds a session advisory lock on a connection of its own and is the leader
 * until that connection ends, which PostgreSQL notices at once when the process dies, so another
 * takes over at its next try (every `retryMs`). On SQLite there is one process: it always leads.
 *
 * Use: the scheduler runs its cron everywhere and, at each tick, acts only `if (leadership.isLeader())`.
 */
export interface Leadership {
  /** True while this process holds the lead (cheap: no query). */
  isLeader(): boolean;
  /** Starts trying to lead; resolves after the first try. */
  start(): Promise<void>;
  /** Gives the lead up (ends the connection) and stops trying. */
  stop(): Promise<void>;
}

/** Advisory lock class of leaderships (the key is `hashtext(name)`); distinct from the jobs' liveness class. */
export const LEADER_LOCK_CLASS = 4_242_003;

export interface LeadershipOptions {
  /** The PostgreSQL store's URL; undefined (SQLite) means this process always leads. */
  databaseUrl?: string;
  /** What is led, e.g. `scheduler`. */
  name: string;
  log: Logger;
  /** How often (ms) a follower tries to take over; default 5 s. */
  retryMs?: number;
}

export function createLeadership(options: LeadershipOptions): Leadership {
  const { databaseUrl, name, log } = options;
  if (!databaseUrl) return { isLeader: () => true, start: async () => undefined, stop: async () => undefined };
  const retryMs = options.retryMs ?? 5_000;
  let client: pg.Client | undefined;
  let leader = false;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;

  const drop = (why: unknown) => {
    if (leader) log.warn({ err: why, name }, "lost the lead");
    leader = false;
    const old = client;
    client = undefined;
    old?.end().catch(() => undefined);
  };

  const attempt = async (): Promise<void> => {
    if (stopped || leader) return;
    try {
      if (!client) {
        const fresh = new pg.Client({ connectionString: databaseUrl, keepAlive: true });
        fresh.on("error", drop);
        fresh.on("end", () => {
          if (client === fresh) drop(new Error("connection ended"));
        });
        client = fresh;
        await fresh.connect();
      }
      const { rows } = await client.query<{ ok: boolean }>("select pg_try_advisory_lock($1, hashtext($2)) as ok", [
        LEADER_LOCK_CLASS,
        name,
      ]);
      leader = rows[0]?.ok === true;
      if (leader) log.info({ name }, "took the lead");
    } catch (error) {
      drop(error);
    }
  };

  return {
    isLeader: () => leader,
    async start() {
      if (!stopped) return;
      stopped = false;
      await attempt();
      timer = setInterval(() => void attempt(), retryMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      const old = client;
      client = undefined;
      leader = false;
      await old?.end().catch(() => undefined);
    },
  };
}
