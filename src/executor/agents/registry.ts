import { createAiderAgent } from "./aider.js";
import { createClaudeCodeAgent } from "./claude-code.js";
import { createCodexAgent } from "./codex.js";
import { createCommandAgent } from "./command.js";
import { createGeminiAgent } from "./gemini.js";
import type { AgentName, AgentSettings } from "./settings.js";
import type { Agent } from "./types.js";

export type { AgentName, AgentSettings } from "./settings.js";

/** The agents this process may run, built from the operator's settings. */
export interface AgentRegistry {
  /** Names of the enabled agents, in the operator's order; the first is the default. */
  readonly enabled: readonly string[];
  /** Agents tried, in order, after the chosen one fails for a reason that is not the task's fault. */
  readonly fallback?: readonly string[];
  get(name: string): Agent | undefined;
  /** Per-run cost cap in US dollars; a run that reports more is not used (its change is dropped). */
  readonly maxCostUsdPerRun?: number | undefined;
}

/** One line per agent family: adding an agent is a new file and a line here. */
const FACTORIES: Record<AgentName, (settings: AgentSettings) => Agent> = {
  "claude-code": (s) => createClaudeCodeAgent(s.claude),
  codex: (s) => createCodexAgent(s.codex),
  aider: (s) => createAiderAgent(s.aider),
  gemini: (s) => createGeminiAgent(s.gemini),
  command: (s) => createCommandAgent(s.command.commandLine ?? "", s.command.env, s.command.allowedHosts),
};

/**
 * Builds the registry from `loadAgentSettings()`: only the enabled agents exist in it.
 * @param overrides - agents to use instead of the built-in adapters, by name (tests, embedders);
 *   a name is still only available when it is enabled.
 * @throws Error when the command agent is enabled without a command line (loadAgentSettings refuses that first).
 */
export function createAgentRegistry(settings: AgentSettings, overrides: Partial<Record<AgentName, Agent>> = {}): AgentRegistry {
  const agents = new Map<string, Agent>();
  for (const name of settings.enabled) agents.set(name, overrides[name] ?? FACTORIES[name](settings));
  return {
    enabled: [...settings.enabled],
    fallback: [...settings.fallback],
    get: (name) => agents.get(name),
    maxCostUsdPerRun: settings.maxCostUsdPerRun,
  };
}

/**
 * Picks the agents for a task: the requested one (from `/agent fix --agent X`), else the
 * repository's choice (`.github/backlog-bot.yml`, which may only name an enabled agent), else the
 * operator's default; then the operator's fallback list without the chosen one.
 * @returns the agents to try in order (the executor moves on only after an infrastructure
 *   failure), or an error a maintainer can act on: it lists the enabled agents.
 */
export function resolveAgent(
  registry: AgentRegistry,
  requested?: string | null,
  repositoryDefault?: string | null,
): { agents: Agent[] } | { error: string } {
  const enabled = registry.enabled.join(", ") || "none (the operator has enabled no agent)";
  const name = requested ?? repositoryDefault ?? registry.enabled[0];
  const agent = name ? registry.get(name) : undefined;
  if (!agent) return { error: `Agent \`${name ?? "(none)"}\` is not enabled here. Enabled agents: ${enabled}.` };
  const rest = (registry.fallback ?? [])
    .filter((other) => other !== name)
    .map((other) => registry.get(other))
    .filter((other): other is Agent => other !== undefined);
  return { agents: [agent, ...rest] };
}
