import { describe, expect, it } from "vitest";
import { DEFAULT_WORKFLOW, parseSuggestions, resolveWorkflow } from "../../../src/executor/workflows.js";

const steps = [{ role: "implement" as const, maxIterations: 1, stopWhenVerified: false }];

describe("resolveWorkflow", () => {
  it("takes the requested workflow, else the repository's, else one implement step", () => {
    const config = { workflow: "quick", workflows: { quick: { steps }, thorough: { steps: [...steps, ...steps] } } };
    expect(resolveWorkflow(config, "thorough")).toEqual({ name: "thorough", steps: [...steps, ...steps] });
    expect(resolveWorkflow(config)).toEqual({ name: "quick", steps });
    expect(resolveWorkflow({ workflows: {} })).toBe(DEFAULT_WORKFLOW);
  });

  it("names the defined workflows when the requested one is unknown", () => {
    expect(resolveWorkflow({ workflows: { quick: { steps } } }, "fast")).toEqual({
      error: "Workflow `fast` is not defined in .github/backlog-bot.yml. Defined workflows: quick.",
    });
  });
});

describe("parseSuggestions", () => {
  it("reads numbered points, joining indented continuation lines", () => {
    const review = "Looks mostly fine.\n\n1. Rename `x`.\n2) Handle the empty list:\n   return [] early.\nThanks!\n10. Last one";
    expect(parseSuggestions(review)).toEqual(["Rename `x`.", "Handle the empty list: return [] early.", "Last one"]);
    expect(parseSuggestions("No suggestions.")).toEqual([]);
  });
});
