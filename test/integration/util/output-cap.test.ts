/**
 * A child's output past the cap (`maxOutputBytes`) keeps only its tail. That tail must not begin
 * inside a secret, which no redaction would then recognise, and a listing the bot parses must never
 * be used cut: the diff policy read `git status` that way. Real processes and real git.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { changedFiles } from "../../../src/executor/guard.js";
import { baseEnv, DEFAULT_MAX_OUTPUT_BYTES, runCommand } from "../../../src/util/exec.js";
import { redactSecrets } from "../../../src/util/logger.js";
import { commitFiles, initRepo, makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

/** A shell script printing `text` to stderr, from a file (no quoting of the text into the command). */
function printer(text: string): { dir: string; file: string } {
  const dir = makeTempDir("backlog-bot-output-cap-");
  dirs.push(dir);
  const file = path.join(dir, "out.txt");
  writeFileSync(file, text);
  return { dir, file };
}

describe("output past the cap", () => {
  it("the kept tail starts at a line, so a token cut by the cap leaves nothing of itself", async () => {
    const token = `ghs_${"Q".repeat(16)}${"Z".repeat(20)}`;
    // The cap falls 5 characters into the token: the kept bytes would start with `QQQ…ZZZ`, which
    // has no `ghs_` prefix for redaction to see.
    const tail = `${token.slice(5)}\n${"tail line\n".repeat(16)}`;
    const max = tail.length;
    const text = `${"x".repeat(300)}\nstart ${token.slice(0, 5)}${tail}`;
    const { dir, file } = printer(text);
    const result = await runCommand("sh", ["-c", 'cat "$1" >&2', "sh", file], { cwd: dir, env: baseEnv(), maxOutputBytes: max });
    expect(result.exitCode).toBe(0);
    const kept = redactSecrets(result.stderr);
    expect(kept).not.toContain("QQQQ");
    expect(kept).not.toContain("ZZZZ");
    expect(kept.startsWith("tail line\n")).toBe(true);
    expect(kept.endsWith("tail line\n")).toBe(true);
  });

  it("a private key whose BEGIN line was cut off is redacted from its body lines to its END line", async () => {
    const body = Array.from({ length: 20 }, (_, i) => `${String.fromCharCode(65 + i).repeat(64)}`).join("\n");
    const key = `-----BEGIN RSA PRIVATE KEY-----\n${body}\nshort==\n-----END RSA PRIVATE KEY-----`;
    const { dir, file } = printer(`agent log\n${key}\nafter the key\n`);
    const result = await runCommand("sh", ["-c", 'cat "$1" >&2', "sh", file], { cwd: dir, env: baseEnv(), maxOutputBytes: 600 });
    expect(result.stderr).not.toContain("BEGIN");
    expect(result.stderr).toContain("END RSA PRIVATE KEY");
    const kept = redactSecrets(result.stderr);
    expect(kept).toBe("[REDACTED]\nafter the key\n");
  });

  it("git status past the cap fails the diff policy's read instead of dropping the head of the list", async () => {
    const repo = initRepo();
    dirs.push(repo);
    commitFiles(repo, { "README.md": "hello\n" });
    // The file the policy forbids sorts first; 25,000 long names after it fill more than the
    // 1 MiB the executor's git keeps, so a cut listing would lose exactly the forbidden entry.
    mkdirSync(path.join(repo, ".github"));
    writeFileSync(path.join(repo, ".github", "backlog-bot.yml"), "autopilot:\n  enabled: true\n");
    const junk = path.join(repo, "z".repeat(40));
    mkdirSync(junk);
    const files = Math.ceil((DEFAULT_MAX_OUTPUT_BYTES * 1.1) / 48);
    for (let i = 0; i < files; i++) writeFileSync(path.join(junk, `file-${String(i).padStart(6, "0")}`), "");
    await expect(changedFiles(repo)).rejects.toThrow(/git status printed more than 1048576 bytes, so its output was not used/);
  }, 60_000);
});
