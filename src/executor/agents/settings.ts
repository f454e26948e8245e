import { z } from "zod";
import { hostOfUrl } from "../../sandbox/policy.js";
import { BacklogBotError } from "../../util/errors.js";
import { registerSecret } from "../../util/logger.js";
import { splitArgs } from "./split-args.js";

/** Every agent family this build knows; the operator enables some of them. */
export const AGENT_NAMES = ["claude-code", "codex", "aider", "gemini", "command"] as const;
/** The name of an agent family, as operators and maintainers write it. */
export type AgentName = (typeof AGENT_NAMES)[number];

/** Settings shared by the adapters of the agent CLIs. */
export interface CliAgentSettings {
  /** The executable: a name looked up on PATH, or an absolute path. */
  path: string;
  model: string | undefined;
  /** Cap on the agent's turns, where its CLI supports one (Claude Code's `--max-turns`). */
  maxTurns: number | undefined;
  /** Extra arguments appended to the command line (split like a shell would, never run by one). */
  extraArgs: string[];
  /** Variables passed to this agent only (its model credentials): names from `*_ENV`, values from the bot's environment. */
  env: Record<string, string>;
  /**
   * Hosts the sandbox's proxy lets this agent reach: `BACKLOG_BOT_AGENT_ALLOWED_HOSTS` where it names
   * this agent (or all agents), else the model API host the agent is configured for.
   */
  allowedHosts: string[];
}

/** The operator's agent settings, parsed from the environment by `loadAgentSettings`. */
export interface AgentSettings {
  /** Enabled agents, in the operator's order; the first is the default. */
  enabled: AgentName[];
  /** Agents to try, in order, when the chosen one fails for a reason that is not the task's fault. */
  fallback: AgentName[];
  claude: CliAgentSettings & { allowedTools: string[]; permissionMode: string; maxBudgetUsd: number | undefined };
  /** Per-run cost cap in US dollars (`BACKLOG_BOT_MAX_COST_USD_PER_RUN`): passed to agents that take one, enforced from the reported cost for the others. */
  maxCostUsdPerRun: number | undefined;
  /** `baseUrl` set: Codex talks to that Responses API through a custom model provider. */
  codex: CliAgentSettings & { baseUrl: string | undefined; apiKeyEnv: string };
  aider: CliAgentSettings;
  gemini: CliAgentSettings;
  command: { commandLine: string | undefined; env: Record<string, string>; allowedHosts: string[] };
}

/**
 * Variables that must never reach an agent even if an operator lists them: GitHub credentials and
 * the app's own secrets (see DESIGN.md, "Secrets").
 */
const FORBIDDEN_ENV = /^(?:GITHUB_|GH_|GITHUB$|PRIVATE_KEY|WEBHOOK_SECRET|APP_ID$|CLIENT_SECRET$|GITHUB_CLIENT_SECRET$)/i;
/**
 * Values shaped like a GitHub token or a PEM key are refused whatever their variable's name. No
 * word boundary before the prefix: a token inside a URL-encoded value (`x-access-token%3Aghs_…`)
 * follows a letter or digit.
 */
const FORBIDDEN_VALUE = /(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{22,})|-----BEGIN [A-Z ]*PRIVATE KEY-----/;
/**
 * Names of the variables passed to agents whose values are credentials, so redacted wherever they
 * appear (transcripts, run rows, PR bodies, comments, logs): a `_`-separated word of the name is
 * KEY (or ends in KEY: APIKEY), KEYS, TOKEN(S), SECRET(S), PASSWORD, PASSWD, PASS, PWD,
 * CREDENTIAL(S) or AUTH. This covers the vendors' own names (GEMINI_API_KEY, GOOGLE_API_KEY,
 * ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, OPENAI_API_KEY, AZURE_OPENAI_API_KEY, AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_BEARER_TOKEN_BEDROCK), whose values need not look
 * like any known token format (`AIza…`, a 40-character AWS secret). Values by name rather than
 * all values: a base URL, a region or a model name would otherwise vanish from every log line.
 */
const SECRET_NAME = /(?:^|_)(?:[A-Z0-9]*KEY|KEYS|TOKENS?|SECRETS?|PASSWORD|PASSWD|PASS|PWD|CREDENTIALS?|AUTH)(?:_|$)/i;

/** Claude Code tools that read and edit files and run commands, all confined to the worktree by acceptEdits. */
const DEFAULT_CLAUDE_TOOLS = ["Read", "Edit", "MultiEdit", "Write", "Glob", "Grep", "LS", "Bash", "TodoWrite"];

const list = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? "")
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean),
  );
const agentList = list.pipe(z.array(z.enum(AGENT_NAMES)));
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => v || undefined);
const turns = z.coerce.number().int().min(1).max(1000).optional();

const schema = z.object({
  BACKLOG_BOT_AGENT_ALLOWED_HOSTS: list,
  BACKLOG_BOT_AGENTS: agentList,
  BACKLOG_BOT_AGENT_FALLBACK: agentList,
  BACKLOG_BOT_AGENT_COMMAND: optionalText,
  BACKLOG_BOT_COMMAND_ENV: list,
  BACKLOG_BOT_CLAUDE_PATH: z.string().min(1).default("claude"),
  BACKLOG_BOT_CLAUDE_MODEL: optionalText,
  BACKLOG_BOT_CLAUDE_MAX_TURNS: turns,
  /** Per-run cost cap in US dollars (all agents); Claude Code gets it as `--max-budget-usd`. */
  BACKLOG_BOT_MAX_COST_USD_PER_RUN: z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().positive().optional()),
  BACKLOG_BOT_CLAUDE_ARGS: optionalText,
  BACKLOG_BOT_CLAUDE_ENV: list,
  BACKLOG_BOT_CLAUDE_ALLOWED_TOOLS: list,
  BACKLOG_BOT_CLAUDE_PERMISSION_MODE: z.enum(["acceptEdits", "bypassPermissions", "default", "plan"]).default("acceptEdits"),
  BACKLOG_BOT_CODEX_PATH: z.string().min(1).default("codex"),
  BACKLOG_BOT_CODEX_MODEL: optionalText,
  BACKLOG_BOT_CODEX_ARGS: optionalText,
  BACKLOG_BOT_CODEX_ENV: list,
  BACKLOG_BOT_CODEX_BASE_URL: z.url().optional(),
  BACKLOG_BOT_CODEX_API_KEY_ENV: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .default("OPENAI_API_KEY"),
  BACKLOG_BOT_AIDER_PATH: z.string().min(1).default("aider"),
  BACKLOG_BOT_AIDER_MODEL: optionalText,
  BACKLOG_BOT_AIDER_ARGS: optionalText,
  BACKLOG_BOT_AIDER_ENV: list,
  BACKLOG_BOT_GEMINI_PATH: z.string().min(1).default("gemini"),
  BACKLOG_BOT_GEMINI_MODEL: optionalText,
  BACKLOG_BOT_GEMINI_ARGS: optionalText,
  BACKLOG_BOT_GEMINI_ENV: list,
});

function invalid(message: string): BacklogBotError {
  return new BacklogBotError("INVALID_SETTINGS", message);
}

/** Resolves the variable names an operator listed for one agent to their values (unset ones are skipped). */
function passThrough(setting: string, names: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    if (FORBIDDEN_ENV.test(name))
      throw invalid(`${setting}: ${name} may not be passed to an agent (GitHub credentials and the app's secrets never reach one)`);
    const value = env[name];
    if (value === undefined) continue;
    if (FORBIDDEN_VALUE.test(value))
      throw invalid(`${setting}: the value of ${name} looks like a GitHub token or a private key; agents never get one`);
    out[name] = value;
  }
  return out;
}

function cli(
  env: NodeJS.ProcessEnv,
  prefix: string,
  path: string,
  model: string | undefined,
  args: string | undefined,
  names: string[],
): CliAgentSettings {
  const passed = passThrough(`${prefix}_ENV`, names, env);
  return { path, model, maxTurns: undefined, extraArgs: args ? splitArgs(args) : [], env: passed, allowedHosts: [] };
}

/**
 * Each agent's network allowlist. `BACKLOG_BOT_AGENT_ALLOWED_HOSTS` is a comma list of entries,
 * `host[:port]` or `*.domain` for every agent, or `<agent>=host[:port]` for one; when it names
 * anything for an agent, that replaces the agent's default, which is the model API host it is
 * configured for (its base URL variable, else the vendor's public API).
 * @throws BacklogBotError `INVALID_SETTINGS` for an unknown agent name.
 */
export function agentAllowedHosts(entries: readonly string[], defaults: Record<AgentName, string[]>): Record<AgentName, string[]> {
  const named: Partial<Record<AgentName, string[]>> = {};
  const everyone: string[] = [];
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    if (eq < 0) {
      everyone.push(entry);
      continue;
    }
    const agent = entry.slice(0, eq).trim() as AgentName;
    if (!AGENT_NAMES.includes(agent)) throw invalid(`BACKLOG_BOT_AGENT_ALLOWED_HOSTS: unknown agent "${agent}" in "${entry}"`);
    named[agent] = [...(named[agent] ?? []), entry.slice(eq + 1).trim()];
  }
  const out = {} as Record<AgentName, string[]>;
  for (const agent of AGENT_NAMES) {
    const listed = [...everyone, ...(named[agent] ?? [])];
    out[agent] = listed.length > 0 ? [...new Set(listed)] : defaults[agent];
  }
  return out;
}

/** The hosts of the given base-URL variables, else `fallback` (host:port strings). */
function hostsOf(values: Array<string | undefined>, fallback: string[]): string[] {
  const hosts = values.map(hostOfUrl).filter((h): h is string => h !== undefined);
  return hosts.length > 0 ? hosts : fallback;
}

/**
 * Registers with the logger's redaction (`registerSecret`) the value of every variable passed to
 * an agent whose name says it is a credential (`SECRET_NAME`), and Codex's API key variable
 * (`BACKLOG_BOT_CODEX_API_KEY_ENV`, whatever its name). From then on `redactSecrets` replaces those
 * exact values wherever an agent prints them; values under 8 characters are not registered
 * (`registerSecret`'s floor, so that no common short word is redacted everywhere).
 * @param settings - the loaded settings; only `*.env` and `codex.apiKeyEnv` are read.
 */
export function registerAgentSecrets(settings: AgentSettings): void {
  const envs = [settings.claude.env, settings.codex.env, settings.aider.env, settings.gemini.env, settings.command.env];
  for (const env of envs) for (const [name, value] of Object.entries(env)) if (SECRET_NAME.test(name)) registerSecret(value);
  registerSecret(settings.codex.env[settings.codex.apiKeyEnv]);
}

/**
 * Reads the agent settings from the environment (documented in docs/agents.md), and registers
 * the agents' credentials for redaction (`registerAgentSecrets`). Without
 * `BACKLOG_BOT_AGENTS`, the command agent is enabled alone when `BACKLOG_BOT_AGENT_COMMAND` is set.
 * @throws BacklogBotError `INVALID_SETTINGS`: an unknown agent name, a fallback agent that is not
 *   enabled, the command agent enabled without a command line, or a GitHub credential listed for an agent.
 */
export function loadAgentSettings(env: NodeJS.ProcessEnv = process.env): AgentSettings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw invalid(`invalid agent settings: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const s = parsed.data;
  const enabled = [
    ...new Set(s.BACKLOG_BOT_AGENTS.length ? s.BACKLOG_BOT_AGENTS : s.BACKLOG_BOT_AGENT_COMMAND ? (["command"] as const) : []),
  ];
  const fallback = [...new Set(s.BACKLOG_BOT_AGENT_FALLBACK)];
  const stray = fallback.filter((name) => !enabled.includes(name));
  if (stray.length)
    throw invalid(`BACKLOG_BOT_AGENT_FALLBACK names agents that are not enabled in BACKLOG_BOT_AGENTS: ${stray.join(", ")}`);
  if (enabled.includes("command") && !s.BACKLOG_BOT_AGENT_COMMAND)
    throw invalid("the command agent is enabled but BACKLOG_BOT_AGENT_COMMAND is empty");
  const claudeEnv = passThrough("BACKLOG_BOT_CLAUDE_ENV", s.BACKLOG_BOT_CLAUDE_ENV, env);
  const aiderEnv = passThrough("BACKLOG_BOT_AIDER_ENV", s.BACKLOG_BOT_AIDER_ENV, env);
  const geminiEnv = passThrough("BACKLOG_BOT_GEMINI_ENV", s.BACKLOG_BOT_GEMINI_ENV, env);
  // Sources of the defaults: the base-URL variables each CLI documents (Claude Code's
  // ANTHROPIC_BASE_URL, aider's OPENAI_API_BASE / ANTHROPIC_BASE_URL, Gemini CLI's GOOGLE_GEMINI_BASE_URL).
  const hosts = agentAllowedHosts(s.BACKLOG_BOT_AGENT_ALLOWED_HOSTS, {
    "claude-code": hostsOf([claudeEnv.ANTHROPIC_BASE_URL], ["api.anthropic.com:443"]),
    codex: hostsOf([s.BACKLOG_BOT_CODEX_BASE_URL], ["api.openai.com:443"]),
    aider: hostsOf(
      [aiderEnv.OPENAI_API_BASE, aiderEnv.OPENAI_BASE_URL, aiderEnv.ANTHROPIC_BASE_URL],
      ["api.openai.com:443", "api.anthropic.com:443"],
    ),
    gemini: hostsOf([geminiEnv.GOOGLE_GEMINI_BASE_URL], ["generativelanguage.googleapis.com:443"]),
    command: [],
  });
  const claude = cli(
    env,
    "BACKLOG_BOT_CLAUDE",
    s.BACKLOG_BOT_CLAUDE_PATH,
    s.BACKLOG_BOT_CLAUDE_MODEL,
    s.BACKLOG_BOT_CLAUDE_ARGS,
    s.BACKLOG_BOT_CLAUDE_ENV,
  );
  const settings: AgentSettings = {
    enabled,
    fallback,
    maxCostUsdPerRun: s.BACKLOG_BOT_MAX_COST_USD_PER_RUN,
    claude: {
      ...claude,
      allowedHosts: hosts["claude-code"],
      maxTurns: s.BACKLOG_BOT_CLAUDE_MAX_TURNS,
      maxBudgetUsd: s.BACKLOG_BOT_MAX_COST_USD_PER_RUN,
      allowedTools: s.BACKLOG_BOT_CLAUDE_ALLOWED_TOOLS.length ? s.BACKLOG_BOT_CLAUDE_ALLOWED_TOOLS : DEFAULT_CLAUDE_TOOLS,
      permissionMode: s.BACKLOG_BOT_CLAUDE_PERMISSION_MODE,
    },
    codex: {
      ...cli(env, "BACKLOG_BOT_CODEX", s.BACKLOG_BOT_CODEX_PATH, s.BACKLOG_BOT_CODEX_MODEL, s.BACKLOG_BOT_CODEX_ARGS, [
        ...new Set([...s.BACKLOG_BOT_CODEX_ENV, s.BACKLOG_BOT_CODEX_API_KEY_ENV]),
      ]),
      allowedHosts: hosts.codex,
      baseUrl: s.BACKLOG_BOT_CODEX_BASE_URL,
      apiKeyEnv: s.BACKLOG_BOT_CODEX_API_KEY_ENV,
    },
    aider: {
      ...cli(
        env,
        "BACKLOG_BOT_AIDER",
        s.BACKLOG_BOT_AIDER_PATH,
        s.BACKLOG_BOT_AIDER_MODEL,
        s.BACKLOG_BOT_AIDER_ARGS,
        s.BACKLOG_BOT_AIDER_ENV,
      ),
      allowedHosts: hosts.aider,
    },
    gemini: {
      ...cli(
        env,
        "BACKLOG_BOT_GEMINI",
        s.BACKLOG_BOT_GEMINI_PATH,
        s.BACKLOG_BOT_GEMINI_MODEL,
        s.BACKLOG_BOT_GEMINI_ARGS,
        s.BACKLOG_BOT_GEMINI_ENV,
      ),
      allowedHosts: hosts.gemini,
    },
    command: {
      commandLine: s.BACKLOG_BOT_AGENT_COMMAND,
      env: passThrough("BACKLOG_BOT_COMMAND_ENV", s.BACKLOG_BOT_COMMAND_ENV, env),
      allowedHosts: hosts.command,
    },
  };
  registerAgentSecrets(settings);
  return settings;
}
