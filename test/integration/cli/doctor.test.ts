import { mkdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../../src/cli/index.js";
import { makeTempDir, removeDir } from "../../fixtures/git-repo.js";

/** Runs `backlog-bot doctor` in process, capturing what it prints. */
async function doctor(): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    return { code: await main(["doctor"]), out: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

describe("backlog-bot doctor", () => {
  const root = makeTempDir("backlog-bot-doctor-");
  afterAll(() => removeDir(root));

  it("passes on this host (bubblewrap, socat, ripgrep installed): the probe is confined and the proxy works", async () => {
    const { code, out } = await doctor();
    expect(out).toContain("ok    bubblewrap installed");
    expect(out).toContain("ok    user namespaces allowed");
    expect(out).toContain("ok    the proxy starts and lets allowlisted traffic through: HTTP 200");
    expect(out).toMatch(/ok {4}the probe cannot read a secret planted outside its worktree: read refused \(ENOENT\)/);
    expect(code).toBe(0);
  });

  it("fails with exit 1 and says what to install when bubblewrap is missing", async () => {
    // A PATH with everything the doctor looks for except bwrap.
    const bin = path.join(root, "bin");
    mkdirSync(bin);
    for (const program of ["socat", "rg"]) symlinkSync(`/usr/bin/${program}`, path.join(bin, program));
    const saved = process.env.PATH;
    process.env.PATH = bin;
    try {
      const { code, out } = await doctor();
      expect(out).toContain("FAIL  bubblewrap installed");
      expect(out).toContain("fix: apt-get install -y bubblewrap");
      expect(out).toContain("ok    socat installed");
      expect(code).toBe(1);
    } finally {
      process.env.PATH = saved;
    }
  });
});
