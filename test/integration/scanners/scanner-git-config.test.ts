import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { commitFiles, initRepo, makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

describe("the scanner's git and other people's config", () => {
  it("runs no hook planted in a shared temp dir's git home or in the user's own git config", async () => {
    const repo = initRepo();
    dirs.push(repo);
    commitFiles(repo, { "a.ts": "// TODO: one\n" });
    const tmp = makeTempDir("backlog-bot-shared-tmp-");
    const home = makeTempDir("backlog-bot-user-home-");
    dirs.push(tmp, home);
    const marker = path.join(tmp, "PWNED");
    const hook = path.join(tmp, "evil.sh");
    writeFileSync(hook, `#!/bin/sh\ntouch ${marker}\n`);
    chmodSync(hook, 0o755);
    // Another local user pre-creates the path the scanner's git home used to have, and the user's own config has a hook.
    mkdirSync(path.join(tmp, "backlog-bot-git-home"));
    for (const dir of [path.join(tmp, "backlog-bot-git-home"), home])
      writeFileSync(path.join(dir, ".gitconfig"), `[core]\n\tfsmonitor = ${hook}\n`);
    const script = `import { scanTodos } from ${JSON.stringify(path.join(root, "src/scanners/todo.ts"))};
      const r = await scanTodos({ cwd: ${JSON.stringify(repo)} });
      console.log(JSON.stringify(r.findings.map((f) => f.title)));`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      env: { PATH: process.env.PATH, TMPDIR: tmp, HOME: home },
      encoding: "utf8",
    });
    expect(JSON.parse(out.trim().split("\n").at(-1) ?? "[]")).toEqual(["one"]);
    expect(existsSync(marker)).toBe(false);
  });
});
