import { parseCommandArgs, reportError, UsageError, withDb } from "./command.js";

export const usage = `Usage: backlog-bot fix <finding-id | #issue-number> --repo <owner/name> [--agent NAME] [--instructions TEXT]

Starts agent work on a finding (its id, as \`backlog --json\` and the API show it) or on an issue
(\`#123\`), as \`/agent fix\` does on GitHub: one open task per finding or issue, within the
repository's limits (prConcurrentLimit, prHourlyLimit, dailyRunLimit). The task is queued in the
store; a running server (\`backlog-bot serve\`) picks it up within a second.

Options:
  --repo <owner/name>   The repository (required).
  --agent <name>        One of the enabled agents (BACKLOG_BOT_AGENTS); default the repository's, else the first.
  --instructions <text> Words for the agent, as after \`/agent fix\`.
  --json                Print the task as JSON.
  --help                Show this text.`;

/** `backlog-bot fix`: exit 0 when a task was queued or one is already open, 1 when a limit refused it, 2 for bad input. */
export async function run(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs(argv, {
      repo: { type: "string" },
      agent: { type: "string" },
      instructions: { type: "string" },
      json: { type: "boolean", default: false },
    });
    const [target, ...extra] = positionals;
    if (!target || extra.length > 0) throw new UsageError("name one finding id or one #issue-number");
    if (!values.repo) throw new UsageError("--repo <owner/name> is required");
    const issue = /^#(\d+)$/.exec(target);
    if (!issue && !/^\d+$/.test(target)) throw new UsageError(`"${target}" is neither a finding id nor #issue-number`);
    return await withDb(async (db) => {
      const [
        { getRepository },
        { lastValidConfig },
        { requestTask },
        { enqueueTaskRun },
        { createJobs },
        agentModules,
        { loadSettings },
        { createLogger },
      ] = await Promise.all([
        import("../store/repositories.js"),
        import("../config/load.js"),
        import("../executor/requests.js"),
        import("../executor/task-jobs.js"),
        import("../jobs/index.js"),
        Promise.all([import("../executor/agents/registry.js"), import("../executor/agents/settings.js")]),
        import("../config/env.js"),
        import("../util/logger.js"),
      ]);
      const repository = await getRepository(db, values.repo as string);
      if (!repository) {
        console.error(`backlog-bot: no repository "${values.repo}" in the store (is the app installed on it?)`);
        return 2;
      }
      let findingId: number | undefined;
      let title = `Issue #${issue?.[1]}`;
      if (!issue) {
        const finding = await db
          .selectFrom("findings")
          .select(["id", "title", "resolved_at", "dismissed_at"])
          .where("id", "=", Number(target))
          .where("repository_id", "=", repository.id)
          .executeTakeFirst();
        if (!finding || finding.resolved_at || finding.dismissed_at) {
          console.error(`backlog-bot: no open finding ${target} in ${repository.full_name}`);
          return 2;
        }
        findingId = finding.id;
        title = finding.title;
      }
      const settings = loadSettings();
      const log = createLogger({ level: "warn", destination: process.stderr as never });
      const jobs = createJobs({ db, log, ...(settings.databaseUrl && { databaseUrl: settings.databaseUrl }) });
      const [{ createAgentRegistry }, { loadAgentSettings }] = agentModules;
      const result = await requestTask(
        {
          db,
          agents: createAgentRegistry(loadAgentSettings(process.env)),
          jobs,
          log,
          runner: { enqueue: (id) => enqueueTaskRun(jobs, id), abortLocal: () => false },
        },
        {
          repository,
          config: lastValidConfig(repository),
          ...(issue ? { issueNumber: Number(issue[1]) } : { findingId }),
          title,
          instructions: values.instructions ?? null,
          ...(values.agent !== undefined && { agent: values.agent }),
          requestedBy: process.env.USER ? `cli:${process.env.USER}` : "cli",
          trigger: "cli",
        },
      );
      if (values.json) console.log(JSON.stringify(result, null, 2));
      else if (result.kind === "refused") console.error(`backlog-bot: ${result.refusal.message}`);
      else
        console.log(
          result.kind === "queued"
            ? `queued task #${result.task.id} (${result.task.agent})`
            : `task #${result.task.id} is already ${result.task.state}`,
        );
      return result.kind === "refused" ? 1 : 0;
    });
  } catch (error) {
    return reportError(error, usage);
  }
}
