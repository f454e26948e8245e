import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import type { Db } from "../store/db.js";
import type { WebEvent } from "../util/live-events.js";
import { parseTranscriptLine } from "../util/transcript.js";

/** How often (ms) a watched task is read from the store. */
export const WATCH_INTERVAL_MS = 1_000;
/** Most transcript bytes read per run per tick: a burst is caught up over a few ticks. */
const MAX_READ_BYTES = 256 * 1024;

interface RunCursor {
  offset: number;
  partial: string;
  /** Decodes the file's bytes across reads: a character split by a read's end is kept for the next one. */
  decoder: StringDecoder;
  outcome: string | null;
  /** The executor publishes this run's lines on the bus: stop tailing its file. */
  viaBus: boolean;
}

/** A running watch; `sawBusTranscript(runId)` switches that run to the bus. */
export interface TaskWatch {
  sawBusTranscript(runId: number): void;
  stop(): void;
}

/**
 * Follows one task through the store, so a task page updates live even when the task runs in
 * another process (`BACKLOG_BOT_ROLE=worker`) or the executor publishes nothing: every
 * `WATCH_INTERVAL_MS` it reads the task's state and runs, emits `task` on a state or PR change and
 * `run` when a run starts or ends, and tails the running run's transcript file for new complete
 * lines (emitted as `transcript` events). Runs that already existed at the start are not replayed
 * (the page shows them). Never throws; a failed read is retried next tick.
 */
export function watchTask(db: Db, taskId: number, emit: (event: WebEvent) => void, intervalMs = WATCH_INTERVAL_MS): TaskWatch {
  const runs = new Map<number, RunCursor>();
  let first = true;
  let busy = false;
  let stopped = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      const task = await db
        .selectFrom("tasks")
        .innerJoin("repositories", "repositories.id", "tasks.repository_id")
        .select(["tasks.state", "tasks.pr_url", "tasks.error", "repositories.full_name as repository"])
        .where("tasks.id", "=", taskId)
        .executeTakeFirst();
      if (!task || stopped) return;
      emit({ type: "task", taskId, repository: task.repository, state: task.state, prUrl: task.pr_url, error: task.error });
      const rows = await db
        .selectFrom("runs")
        .select(["id", "agent", "outcome", "transcript_path"])
        .where("task_id", "=", taskId)
        .orderBy("id")
        .execute();
      for (const run of rows) {
        let cursor = runs.get(run.id);
        if (!cursor) {
          const size = first ? await fileSize(run.transcript_path) : 0;
          cursor = { offset: size, partial: "", decoder: new StringDecoder("utf8"), outcome: first ? run.outcome : null, viaBus: false };
          runs.set(run.id, cursor);
          if (!first) emit({ type: "run", taskId, runId: run.id, repository: task.repository, agent: run.agent, outcome: null });
        }
        if (!cursor.viaBus && run.transcript_path) {
          for (const line of await readLines(run.transcript_path, cursor)) {
            for (const event of parseTranscriptLine(line))
              emit({ type: "transcript", taskId, runId: run.id, repository: task.repository, event });
          }
        }
        if (run.outcome !== cursor.outcome) {
          cursor.outcome = run.outcome;
          emit({ type: "run", taskId, runId: run.id, repository: task.repository, agent: run.agent, outcome: run.outcome });
        }
      }
      first = false;
    } catch {
      // the store or a file was briefly unavailable: next tick
    } finally {
      busy = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return {
    sawBusTranscript(runId) {
      const cursor = runs.get(runId);
      if (cursor) cursor.viaBus = true;
      else runs.set(runId, { offset: 0, partial: "", decoder: new StringDecoder("utf8"), outcome: null, viaBus: true });
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

async function fileSize(path: string | null): Promise<number> {
  if (!path) return 0;
  try {
    const handle = await open(path, "r");
    try {
      return (await handle.stat()).size;
    } finally {
      await handle.close();
    }
  } catch {
    return 0;
  }
}

/** New complete lines of the file since `cursor.offset`; advances the cursor. */
async function readLines(path: string, cursor: RunCursor): Promise<string[]> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, "r");
    const buffer = Buffer.alloc(MAX_READ_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_READ_BYTES, cursor.offset);
    if (bytesRead === 0) return [];
    cursor.offset += bytesRead;
    const text = cursor.partial + cursor.decoder.write(buffer.subarray(0, bytesRead));
    const lines = text.split("\n");
    cursor.partial = lines.pop() ?? "";
    return lines;
  } catch {
    return [];
  } finally {
    await handle?.close();
  }
}
