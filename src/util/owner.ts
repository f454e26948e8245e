import { randomUUID } from "node:crypto";
import os from "node:os";

/**
 * Lease owners are `<host>:<pid>:<nonce>`: a process can tell, at start, which leases were held by a
 * process of this host that is gone (its pid is dead), and take them back at once instead of waiting for the lease to expire.
 */
export function newOwnerId(): string {
  return `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** True when `owner` names a process of this host that no longer runs (never true for `self`). */
export function isDeadLocalOwner(owner: string | null, self: string): boolean {
  if (!owner || owner === self) return false;
  const [host, pidText] = owner.split(":");
  if (host !== os.hostname()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // Same pid, other nonce: another instance in this process (tests), alive; the lease decides.
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** The `<host>:` prefix of this host's owner ids, to select its leases with LIKE. */
export function localOwnerPrefix(): string {
  return `${os.hostname()}:`;
}
