/**
 * A private build of the CLI for whole-process benchmarks: src/ compiled by tsc into
 * node_modules/.cache/backlog-bot-bench-cli/dist (the shared dist/ is left alone; node_modules
 * resolve from there), launched through a copy of bin/backlog-bot.js.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const build = path.join(root, "node_modules", ".cache", "backlog-bot-bench-cli");

/**
 * Compiles src/ (type errors in others' work in progress do not stop tsc emitting) and returns
 * the launcher's path. With `reuse`, an existing build is used as it is.
 * @throws Error when nothing was emitted.
 */
export function compileCli(reuse = false): string {
  const launcher = path.join(build, "bin", "backlog-bot.js");
  if (reuse && existsSync(launcher) && existsSync(path.join(build, "dist", "cli", "index.js"))) return launcher;
  rmSync(build, { recursive: true, force: true });
  mkdirSync(path.join(build, "bin"), { recursive: true });
  try {
    execFileSync(path.join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json", "--outDir", path.join(build, "dist")], {
      cwd: root,
      stdio: "ignore",
    });
  } catch {
    // type errors still emit
  }
  copyFileSync(path.join(root, "bin", "backlog-bot.js"), launcher);
  if (!existsSync(path.join(build, "dist", "cli", "index.js"))) throw new Error("tsc emitted no dist/cli/index.js");
  return launcher;
}
