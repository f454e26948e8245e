import { createHash } from "node:crypto";
import type { RepoConfig } from "../config/schema.js";

/**
 * The default schedule: once a day, at a minute and hour derived from the repository's name, so
 * installations do not all scan at midnight together, and a repository keeps its slot across restarts.
 */
export function defaultSchedule(fullName: string): string {
  const hash = createHash("sha256").update(fullName.toLowerCase()).digest();
  const slot = hash.readUInt32BE(0) % (24 * 60);
  return `${slot % 60} ${Math.floor(slot / 60)} * * *`;
}

/** The cron expression and time zone a repository's scans run on. */
export function scheduleOf(fullName: string, config: Pick<RepoConfig, "schedule" | "timezone">): { cron: string; timezone: string } {
  return { cron: config.schedule ?? defaultSchedule(fullName), timezone: config.timezone };
}
