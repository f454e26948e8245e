/**
 * Typed errors: callers branch on `code`, never on the message. Messages are written for the
 * person who will read them and say what to do next (Probot's get-error-handler.ts does the same).
 */
export type ErrorCode =
  | "NOT_A_GIT_REPOSITORY"
  | "STORE_TOO_NEW"
  | "STORE_NOT_EMPTY"
  | "STORE_MISMATCH"
  | "INVALID_SETTINGS"
  | "COMMAND_FAILED"
  | "COMMAND_TIMEOUT"
  | "AGENT_UNAVAILABLE"
  | "INVALID_CONFIG"
  | "PUSH_FAILED"
  | "SANDBOX_UNAVAILABLE"
  | "WEB_REQUEST_REFUSED"
  | "TASK_FAILED"
  | "LEASE_LOST"
  | "INVALID_DELIVERY"
  | "INTERRUPTED"
  | "STORE_CONFLICT"
  | "APP_NOT_REGISTERED"
  | "SCAN_FAILED";

/** Base class of every error this app throws on purpose. */
export class BacklogBotError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
