import { BacklogBotError } from "../util/errors.js";

/** `on`: every agent and verify command runs in the sandbox; `off`: the operator turned it off. */
export type SandboxMode = "on" | "off";

/** The sandbox's state, for `/health` and the start-up log. */
export interface SandboxStatus {
  mode: SandboxMode;
  /** True once a probe run succeeded, false once it failed, null before the first check. */
  ready: boolean | null;
  /** What is missing when not ready (e.g. `bubblewrap (bwrap) not installed`). */
  problem: string | null;
}

interface SandboxSettings {
  mode: SandboxMode;
  /** Paths never readable inside (the private key file, the data dir). */
  hidden: string[];
}

let settings: SandboxSettings | undefined;
let check: Promise<void> | undefined;
let status: { ready: boolean | null; problem: string | null } = { ready: null, problem: null };

/**
 * Reads `BACKLOG_BOT_SANDBOX` (`on`, the default, or `off`).
 * @throws BacklogBotError `INVALID_SETTINGS` for any other value.
 */
export function sandboxModeFromEnv(env: NodeJS.ProcessEnv): SandboxMode {
  const value = (env.BACKLOG_BOT_SANDBOX ?? "on").trim().toLowerCase();
  if (value === "on" || value === "") return "on";
  if (value === "off") return "off";
  throw new BacklogBotError("INVALID_SETTINGS", `BACKLOG_BOT_SANDBOX must be "on" or "off", not "${value}"`);
}

/**
 * Sets the process's sandbox settings; call once at start, from the environment loader's values.
 * @param hidden - paths no sandboxed run may read even inside a readable region: the data dir
 *   (worktrees, HOMEs and mirrors are allowed back one by one per run) and the private key file.
 */
export function configureSandbox(options: { mode: SandboxMode; hidden: readonly string[] }): void {
  settings = { mode: options.mode, hidden: [...options.hidden] };
  check = undefined;
  status = { ready: null, problem: null };
}

/** The mode in force: configured, else read from `process.env` (CLI and tests that never configure it). */
export function sandboxMode(): SandboxMode {
  return settings?.mode ?? sandboxModeFromEnv(process.env);
}

/** The configured hidden paths. */
export function sandboxHidden(): string[] {
  return settings?.hidden ?? [];
}

/** The sandbox's state for `/health`: mode, whether the probe run succeeded, and why not. */
export function sandboxStatus(): SandboxStatus {
  return { mode: sandboxMode(), ...status };
}

/**
 * Checks once per process (the first sandboxed run, or start-up) that the sandbox works here: a
 * probe run of `true` inside it. Later calls return the first answer.
 * @throws BacklogBotError `SANDBOX_UNAVAILABLE` naming what is missing (run `backlog-bot doctor`).
 */
export function requireSandbox(): Promise<void> {
  check ??= (async () => {
    const { probeSandbox } = await import("./probe.js");
    const problem = await probeSandbox();
    status = { ready: problem === null, problem };
    if (problem !== null) {
      throw new BacklogBotError(
        "SANDBOX_UNAVAILABLE",
        `agents and verify commands run only inside a sandbox, and it cannot run on this host: ${problem}. Run \`backlog-bot doctor\` to see what to install, or set BACKLOG_BOT_SANDBOX=off to run them unconfined.`,
      );
    }
  })();
  return check;
}

/** The logger calls `startSandbox` makes (pino's shape). */
interface StartLog {
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
  info(object: object, message: string): void;
}

/**
 * Start-up: configures the sandbox, warns when the operator turned it off (at every start, as
 * issue 11 asks), else probes it once. A sandbox that does not work is logged, not thrown: the
 * server still takes webhooks, and every agent or verify run then fails with `SANDBOX_UNAVAILABLE`
 * until the host is fixed (`backlog-bot doctor`) or `BACKLOG_BOT_SANDBOX=off` is set.
 * @param options.hidden - the data dir and the private key's path (read PRIVATE_KEY_PATH before
 *   the environment loader deletes it).
 * @returns the status `/health` shows.
 */
export async function startSandbox(options: { mode: SandboxMode; hidden: readonly string[]; log: StartLog }): Promise<SandboxStatus> {
  configureSandbox(options);
  if (options.mode === "off") {
    options.log.warn(
      { sandbox: "off" },
      "BACKLOG_BOT_SANDBOX=off: agents and verify commands run WITHOUT a sandbox, as this server's user, with its network",
    );
    return sandboxStatus();
  }
  try {
    await requireSandbox();
    options.log.info({ sandbox: "on" }, "sandbox ready");
  } catch (error) {
    options.log.error({ err: error }, "sandbox unavailable: agents and verify commands will not run (see `backlog-bot doctor`)");
  }
  return sandboxStatus();
}
