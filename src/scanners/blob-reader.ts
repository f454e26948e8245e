import { execa } from "execa";
import type { GitSource } from "./git-source.js";

/** A blob as `git cat-file --batch` answers it. */
export interface Blob {
  /** Its object id. */
  oid: string;
  bytes: Buffer;
}

/** Reads blobs through one long-lived `git cat-file --batch`. */
export interface BlobReader {
  /**
   * One blob by any object name git takes on a line (an object id, or `<commit>:<path>`).
   * Resolves `undefined` when the repository lacks it (a partial clone's missing blob, a deleted
   * path), it is no blob, the name holds a newline, or git has failed. Never rejects.
   */
  get(name: string): Promise<Blob | undefined>;
  /** The contents of `names`, requested together: name -> bytes or `undefined` as `get`. Never rejects. */
  read(names: readonly string[]): Promise<Map<string, Buffer | undefined>>;
  /**
   * Ends the process and waits for it; later reads answer `undefined`. Resolves whether git ended
   * well (exit 0, or never started). Never rejects.
   */
  close(): Promise<boolean>;
}

/**
 * A `git cat-file --batch` session, started on the first request: answers come in request order,
 * so one process serves a whole scan (every file of a commit, every round of a history walk)
 * instead of one `git show` per blob. `onSpawn` is called when the process starts (for the scan's record).
 */
export function blobReader(source: Pick<GitSource, "dir" | "env">, onSpawn?: () => void): BlobReader {
  const waiting: ((blob: Blob | undefined) => void)[] = [];
  let child: ReturnType<typeof execa> | undefined;
  let ended: Promise<boolean> | undefined;
  let failed = false;
  // Chunks are joined only once a whole answer has arrived: joining on every chunk is quadratic.
  let chunks: Buffer[] = [];
  let buffered = 0;
  let need = 1;

  const fail = (): void => {
    failed = true;
    for (const resolve of waiting.splice(0)) resolve(undefined);
  };
  // Answers whole responses as they arrive; returns the incomplete rest.
  const drain = (pending: Buffer): Buffer => {
    for (;;) {
      const eol = pending.indexOf(10);
      if (eol < 0) {
        need = pending.length + 1;
        return pending;
      }
      const header = pending.subarray(0, eol).toString("latin1").split(" ");
      const size = header[1] === "blob" ? Number(header[2]) : -1;
      if (size < 0) {
        // `<name> missing`, `<name> ambiguous`, or an object of another type: nothing follows.
        waiting.shift()?.(undefined);
        pending = pending.subarray(eol + 1);
        continue;
      }
      if (pending.length < eol + size + 2) {
        need = eol + size + 2;
        return pending;
      }
      // A copy: a slice would keep the whole chunk it came in alive for as long as the blob.
      waiting.shift()?.({ oid: header[0] as string, bytes: Buffer.from(pending.subarray(eol + 1, eol + 1 + size)) });
      pending = pending.subarray(eol + size + 2);
    }
  };
  const start = (): ReturnType<typeof execa> => {
    onSpawn?.();
    const spawned = execa("git", ["cat-file", "--batch"], {
      cwd: source.dir,
      env: source.env,
      extendEnv: false,
      buffer: false,
      reject: false,
      stdin: "pipe",
      stderr: "ignore",
    });
    spawned.stdin?.on("error", () => {}); // git exiting early is seen as the end of its output
    spawned.stdout?.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      buffered += chunk.length;
      if (buffered < need) return;
      const rest = drain(chunks.length === 1 ? chunk : Buffer.concat(chunks));
      chunks = rest.length ? [rest] : [];
      buffered = rest.length;
    });
    // Whatever is still waiting when git ends gets no answer.
    ended = spawned.then(
      (outcome) => {
        fail();
        return outcome.exitCode === 0;
      },
      () => {
        fail();
        return false;
      },
    );
    return spawned;
  };
  const get = (name: string): Promise<Blob | undefined> =>
    new Promise((resolve) => {
      if (failed || name.includes("\n")) return resolve(undefined);
      waiting.push(resolve);
      child ??= start();
      child.stdin?.write(`${name}\n`);
    });

  return {
    get,
    read: async (names) => new Map(await Promise.all(names.map(async (name) => [name, (await get(name))?.bytes] as const))),
    async close() {
      if (!child) return true;
      child.stdin?.end();
      return (await ended) ?? false;
    },
  };
}
