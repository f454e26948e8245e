import type { TodoScanProgress } from "../scanners/todo.js";

/** A scan shorter than this (ms) shows no progress line at all. */
const QUIET_MS = 1000;
/** Redraw at most this often (ms). */
const REDRAW_MS = 100;

/**
 * A one-line progress display on stderr for a scan, shown only when stdout is a terminal and the
 * scan has run for over a second; `done()` erases it. Elsewhere (pipes, CI logs) it prints nothing.
 */
export function progressLine(stream: NodeJS.WriteStream = process.stderr, tty = process.stdout.isTTY === true) {
  const started = Date.now();
  let last = 0;
  let shown = false;
  let text = "scanning…";
  const draw = (): void => {
    if (!tty || Date.now() - started < QUIET_MS) return;
    shown = true;
    last = Date.now();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    stream.write(`\r\x1b[K${text} (${seconds} s)`);
  };
  const timer = tty ? setInterval(draw, 250) : undefined;
  timer?.unref();
  return {
    update(progress: TodoScanProgress): void {
      text = progress.phase === "reading" ? `scanning: ${progress.files} files read` : `attributing ${progress.files} files`;
      if (Date.now() - last >= REDRAW_MS) draw();
    },
    done(): void {
      if (timer) clearInterval(timer);
      if (shown) stream.write("\r\x1b[K");
    },
  };
}
