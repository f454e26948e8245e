import { describe, expect, it } from "vitest";
import { parseAgentCommand } from "../../../src/handlers/commands.js";

describe("parseAgentCommand", () => {
  it("ignores comments whose first line is not an /agent command", () => {
    expect(parseAgentCommand("Looks good to me")).toBeNull();
    expect(parseAgentCommand("")).toBeNull();
    expect(parseAgentCommand(null)).toBeNull();
    expect(parseAgentCommand("As I said:\n/agent fix")).toBeNull();
    expect(parseAgentCommand("/agentfix")).toBeNull();
  });

  it("parses /agent fix with instructions on the line and below", () => {
    expect(parseAgentCommand("/agent fix")).toEqual({ name: "fix", instructions: "" });
    expect(parseAgentCommand("/agent fix   use the stdlib\r\nand add a test")).toEqual({
      name: "fix",
      instructions: "use the stdlib\nand add a test",
    });
    expect(parseAgentCommand("  /agent FIX please")).toEqual({ name: "fix", instructions: "please" });
  });

  it("takes --agent NAME and --agent=NAME", () => {
    expect(parseAgentCommand("/agent fix --agent codex be brief")).toEqual({ name: "fix", agent: "codex", instructions: "be brief" });
    expect(parseAgentCommand("/agent fix --agent=claude-code")).toEqual({ name: "fix", agent: "claude-code", instructions: "" });
  });

  it("refuses an agent name that is not a plain identifier", () => {
    expect(parseAgentCommand("/agent fix --agent $(rm -rf /)")).toEqual({ name: "unknown", word: "--agent $(rm" });
  });

  it("knows retry and cancel, and reports other words as unknown", () => {
    expect(parseAgentCommand("/agent retry")).toEqual({ name: "retry", instructions: "" });
    expect(parseAgentCommand("/agent cancel now")).toEqual({ name: "cancel" });
    expect(parseAgentCommand("/agent deploy")).toEqual({ name: "unknown", word: "deploy" });
    expect(parseAgentCommand("/agent")).toEqual({ name: "help" });
    expect(parseAgentCommand("/agent help")).toEqual({ name: "help" });
  });

  it("caps instructions at 4,000 characters", () => {
    const parsed = parseAgentCommand(`/agent fix ${"x".repeat(10_000)}`);
    expect(parsed && "instructions" in parsed ? parsed.instructions.length : 0).toBe(4000);
  });
});

describe("parseAgentCommand flags", () => {
  it("takes --agent and --workflow in either order before the instructions", () => {
    expect(parseAgentCommand("/agent fix --workflow thorough --agent codex be brief")).toEqual({
      name: "fix",
      agent: "codex",
      workflow: "thorough",
      instructions: "be brief",
    });
    expect(parseAgentCommand("/agent fix --workflow=Quick")).toEqual({ name: "fix", workflow: "quick", instructions: "" });
    expect(parseAgentCommand("/agent fix --workflow $(rm)")).toEqual({ name: "unknown", word: "--workflow $(rm)" });
  });
});
