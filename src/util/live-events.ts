import type { TaskState } from "../store/schema.js";
import { parseTranscriptLine, type TranscriptEvent } from "./transcript.js";

/**
 * What the web pages can watch live. The executor publishes these; the SSE endpoint forwards each
 * to the streams whose viewer may read `repository`.
 */
export type WebEvent =
  /** A task entered `state` (e.g. `running`, `pr_open`); `prUrl` once a pull request exists. */
  | { type: "task"; taskId: number; repository: string; state: TaskState; prUrl?: string | null; error?: string | null }
  /** A run started or ended (`outcome` null while it runs). */
  | { type: "run"; taskId: number; runId: number; repository: string; agent: string; outcome: string | null }
  /** One parsed line of a running agent's transcript. */
  | { type: "transcript"; taskId: number; runId: number; repository: string; event: TranscriptEvent };

export type WebEventListener = (event: WebEvent) => void;

const listeners = new Set<WebEventListener>();

/**
 * Hands `event` to every subscriber, synchronously and in-process. Never throws: a failing
 * listener (a closed stream) is the listener's problem, never the executor's.
 */
export function publish(event: WebEvent): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch {
      // one broken stream must not stop the others or the publisher
    }
  }
}

/** Adds a listener; returns the function that removes it. */
export function subscribe(listener: WebEventListener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** Number of live subscribers (for tests and the overview). */
export function subscriberCount(): number {
  return listeners.size;
}

/**
 * A line listener for a running agent (the `onLine` hook of src/executor/agents/cli-run.ts): parses
 * each stdout line and publishes its events for the task page. Cheap when nobody watches.
 */
export function transcriptPublisher(taskId: number, runId: number, repository: string): (line: string) => void {
  return (line) => {
    if (listeners.size === 0) return;
    for (const event of parseTranscriptLine(line)) publish({ type: "transcript", taskId, runId, repository, event });
  };
}
