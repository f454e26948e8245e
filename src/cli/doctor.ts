import { parseCommandArgs, reportError, UsageError } from "./command.js";

export const usage = `Usage: backlog-bot doctor

Checks that this host can run the sandbox that agents and verify commands run in: bubblewrap,
socat and ripgrep installed, unprivileged user namespaces allowed, the filtering proxy starts, and a
sandboxed probe cannot read a secret planted outside its worktree. Prints what to install when
something is missing. Exit code 0 when every check passed, 1 otherwise.

Options:
  --help   Show this text.`;

/**
 * `backlog-bot doctor`: the checks of src/sandbox/doctor.ts, one line each, with a fix for each failure.
 * @returns 0 when every check passed, 1 otherwise (2 for bad usage).
 */
export async function run(argv: string[], print: (line: string) => void = console.log): Promise<number> {
  try {
    const { positionals } = parseCommandArgs(argv, {});
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const [{ runDoctor }, { sandboxMode }] = await Promise.all([import("../sandbox/doctor.js"), import("../sandbox/status.js")]);
    const checks = await runDoctor();
    for (const check of checks) {
      print(`${check.ok ? "ok  " : "FAIL"}  ${check.name}: ${check.detail}`);
      if (!check.ok && check.fix) print(`      fix: ${check.fix}`);
    }
    const failed = checks.filter((c) => !c.ok);
    if (sandboxMode() === "off") print("note: BACKLOG_BOT_SANDBOX=off: agents and verify commands run unconfined on this server.");
    print(
      failed.length === 0
        ? "The sandbox works on this host."
        : `The sandbox cannot run here (${failed.length} check(s) failed): install what is listed above (apt-get update && apt-get install -y bubblewrap socat ripgrep).`,
    );
    return failed.length === 0 ? 0 : 1;
  } catch (error) {
    return reportError(error, usage);
  }
}
