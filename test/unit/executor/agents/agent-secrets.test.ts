import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createCommandAgent } from "../../../../src/executor/agents/command.js";
import { loadAgentSettings } from "../../../../src/executor/agents/settings.js";
import { redactSecrets } from "../../../../src/util/logger.js";
import { makeRun } from "../../../integration/agents/helpers.js";

// Shaped like real keys that match none of the token patterns: a Google API key and an AWS secret.
const GEMINI_KEY = "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvWx";
const AWS_SECRET = "wJalrXUtnFEMI9K7MDENGbPxRfiCYzEXAMPLEKEY3";
const CODEX_KEY = "azure-0d1e2f3a4b5c6d7e8f90";
/** Other values for the agent run, so that it does not rely on the first test's registration. */
const OTHER_GEMINI_KEY = "AIzaSyZ9y8X7w6V5u4T3s2R1q0PoNmLkJiHgFeDcB";
const OTHER_AWS_SECRET = "Xy7/K9mPq2Rs4Tu6Vw8Yz0Ab1Cd3Ef5Gh7Ij9Kl0";
const BASE_URL = "https://gemini-proxy.internal.example";

describe("agent credentials are redacted whatever their shape", () => {
  it("registers the values of credential-named variables and Codex's key variable, not base URLs or short values", () => {
    loadAgentSettings({
      BACKLOG_BOT_GEMINI_ENV: "GEMINI_API_KEY,GOOGLE_GEMINI_BASE_URL",
      BACKLOG_BOT_AIDER_ENV: "AWS_SECRET_ACCESS_KEY,AWS_REGION,SHORT_TOKEN",
      BACKLOG_BOT_CODEX_API_KEY_ENV: "LLM_GATEWAY",
      GEMINI_API_KEY: GEMINI_KEY,
      GOOGLE_GEMINI_BASE_URL: BASE_URL,
      AWS_SECRET_ACCESS_KEY: AWS_SECRET,
      AWS_REGION: "eu-central-1",
      SHORT_TOKEN: "abc",
      LLM_GATEWAY: CODEX_KEY,
    });
    const text = `GEMINI_API_KEY=${GEMINI_KEY}\nsecret: ${AWS_SECRET}\nkey=${CODEX_KEY}\nurl ${BASE_URL} region eu-central-1 abc`;
    expect(redactSecrets(text)).toBe(
      `GEMINI_API_KEY=[REDACTED]\nsecret: [REDACTED]\nkey=[REDACTED]\nurl ${BASE_URL} region eu-central-1 abc`,
    );
  });

  it("an agent printing its keys leaves them out of its transcript and its stored summary", async () => {
    const run = await makeRun();
    try {
      const bin = path.join(run.root, "bin");
      await mkdir(bin);
      const leak = path.join(bin, "leak");
      await writeFile(leak, '#!/bin/sh\ncat >/dev/null\necho "key: $GEMINI_API_KEY"\necho "aws: $AWS_SECRET_ACCESS_KEY" >&2\n');
      await chmod(leak, 0o755);
      const settings = loadAgentSettings({
        BACKLOG_BOT_AGENT_COMMAND: leak,
        BACKLOG_BOT_COMMAND_ENV: "GEMINI_API_KEY,AWS_SECRET_ACCESS_KEY",
        GEMINI_API_KEY: OTHER_GEMINI_KEY,
        AWS_SECRET_ACCESS_KEY: OTHER_AWS_SECRET,
      });
      const result = await createCommandAgent(leak, settings.command.env).run(run.input);
      expect(result.outcome, result.error).toBe("finished");
      const transcript = await readFile(result.transcriptPath, "utf8");
      expect(transcript).toContain("key: [REDACTED]");
      expect(transcript).toContain("aws: [REDACTED]");
      expect(transcript).not.toContain(OTHER_GEMINI_KEY);
      expect(transcript).not.toContain(OTHER_AWS_SECRET);
      // The executor stores the summary (run row, PR body) through redactSecrets (run-task.ts).
      expect(redactSecrets(result.summary)).toBe("key: [REDACTED]");
    } finally {
      await run.cleanup();
    }
  });

  it("redacts a GitHub token that follows a letter or digit, as in a URL-encoded credential", () => {
    const ghs = `ghs_${"b".repeat(36)}`;
    const pat = `github_pat_${"c".repeat(30)}`;
    expect(redactSecrets(`https://x-access-token%3A${ghs}@github.com`)).toBe("https://x-access-token%3A[REDACTED]@github.com");
    expect(redactSecrets(`user%3A${pat}%40`)).toBe("user%3A[REDACTED]%40");
    expect(redactSecrets(`token ${ghs} and x_${ghs}`)).toBe("token [REDACTED] and x_[REDACTED]");
    // Such a value is refused for an agent, as a bare token is.
    expect(() => loadAgentSettings({ BACKLOG_BOT_GEMINI_ENV: "PROXY_URL", PROXY_URL: `https://u%3A${ghs}@proxy.example` })).toThrow(
      /looks like a GitHub token/,
    );
    // Word boundaries still hold for the other shapes: no `sk-` inside a word.
    expect(redactSecrets(`task-${"d".repeat(24)}`)).toBe(`task-${"d".repeat(24)}`);
  });
});
