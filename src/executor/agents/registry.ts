import { createCommandAgent } from "./command.js";
import type { Agent } from "./types.js";

/** The agents this process may run, built from the operator's settings. */
export interface AgentRegistry {
  /** Names of the enabled agents, in the operator's order; the first is the default. */
  readonly enabled: readonly string[];
  get(name: string): Agent | undefined;
}

/** Operator settings that decide which agents exist. */
export interface AgentSettings {
  agentCommand?: string | undefined;
}

/** Builds the registry: one line per agent family. */
export function createAgentRegistry(settings: AgentSettings): AgentRegistry {
  const agents = new Map<string, Agent>();
  if (settings.agentCommand) agents.set("command", createCommandAgent(settings.agentCommand));
  return { enabled: [...agents.keys()], get: (name) => agents.get(name) };
}

/**
 * Picks the agents for a task: the requested one (from `/agent fix --agent X`), else the
 * repository's choice, else the operator's default.
 * @returns the agent to run, or an error a maintainer can act on (it lists the enabled agents).
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
  return { agents: [agent] };
}
