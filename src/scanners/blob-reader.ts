import { execa } from "execa";
import type { GitSource } from "./git-source.js";

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** Reads blobs by object id through one long-lived `git cat-file --batch`. */
export interface BlobReader {
  /**
   * The contents of `ids` (object ids), in one round trip. An id the repository lacks (a partial
   * clone's missing blob), or any id once git has failed, maps to `undefined`. Never rejects.
   */
  read(ids: readonly string[]): Promise<Map<string, Buffer | undefined>>;
  /** Ends the process and waits for it; later reads answer `undefined`. Never rejects. */
  close(): Promise<void>;
}

/**
 * A `git cat-file --batch` session, started on the first read: requests are answered in order,
 * so one process serves every round of a history walk instead of one `git show` per blob.
 * `onSpawn` is called when the process starts (for the scan's record).
 */
export function blobReader(source: Pick<GitSource, "dir" | "env">, onSpawn?: () => void): BlobReader {
  const waiting: { id: string; resolve: (blob: Buffer | undefined) => void }[] = [];
  let child: ReturnType<typeof execa> | undefined;
  let failed = false;
  let chunks: Buffer[] = [];
  let buffered = 0;
  let need = 1;

  const fail = (): void => {
    failed = true;
    for (const request of waiting.splice(0)) request.resolve(undefined);
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
      const request = waiting[0];
      if (size < 0) {
        // `<id> missing`, or an object of another type: answered, nothing to read.
        waiting.shift();
        request?.resolve(undefined);
        pending = pending.subarray(eol + 1);
        continue;
      }
      if (pending.length < eol + size + 2) {
        need = eol + size + 2;
        return pending;
      }
      waiting.shift();
      // A copy: a slice would keep the whole chunk it came in alive for as long as the blob.
      request?.resolve(Buffer.from(pending.subarray(eol + 1, eol + 1 + size)));
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
    spawned.then(fail, fail); // whatever is still waiting when git ends gets no answer
    return spawned;
  };

  return {
    read(ids) {
      const asked: string[] = [];
      const answers = ids.map(
        (id) =>
          new Promise<[string, Buffer | undefined]>((resolve) => {
            if (failed || !OBJECT_ID.test(id)) return resolve([id, undefined]);
            waiting.push({ id, resolve: (blob) => resolve([id, blob]) });
            asked.push(id);
          }),
      );
      if (asked.length) {
        child ??= start();
        child.stdin?.write(`${asked.join("\n")}\n`);
      }
      return Promise.all(answers).then((pairs) => new Map(pairs));
    },
    async close() {
      if (!child) return;
      child.stdin?.end();
      await child.catch(() => undefined);
      fail();
    },
  };
}
