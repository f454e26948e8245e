import { describe, expect, it } from "vitest";
import { checkDiffPolicy } from "../../../src/executor/guard.js";

const change = (...paths: string[]) => paths.map((path) => ({ status: "M", path }));

describe("the diff policy", () => {
  it("refuses workflows, backlog-bot's own config, CODEOWNERS and .gitmodules, naming them", () => {
    for (const path of [
      ".github/workflows/ci.yml",
      ".github/workflows",
      ".github/backlog-bot.yml",
      "CODEOWNERS",
      ".github/CODEOWNERS",
      "docs/CODEOWNERS",
      ".gitmodules",
    ])
      expect(checkDiffPolicy(change("src/a.ts", path)), path).toBe(`the agent changed files backlog-bot never pushes: ${path}`);
  });

  it("lets the repository's own code through, even with similar names", () => {
    expect(
      checkDiffPolicy(change("src/a.ts", ".github/workflows.md", "docs/backlog-bot.yml", "src/CODEOWNERS.ts", "lib/.gitmodules")),
    ).toBeNull();
  });
});
