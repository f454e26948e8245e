import { describe, expect, it } from "vitest";
import { payloadProblem } from "../../../src/handlers/payloads.js";
import { payload } from "../../e2e/harness.js";

describe("payload schemas", () => {
  const issues = (sender: unknown) => ({
    action: "closed",
    repository: { full_name: "o/r", name: "r", owner: { login: "o" } },
    installation: { id: 1 },
    issue: { number: 1, title: "t", state: "closed" },
    ...(sender !== undefined && { sender }),
  });

  it("accepts an issues event with its sender", () => {
    for (const action of ["opened", "edited", "labeled", "unlabeled", "closed", "reopened"]) {
      expect(payloadProblem(`issues.${action}`, issues({ login: "u", type: "User" }))).toBeNull();
    }
  });

  it("refuses an issues event whose sender is null, missing or lacks its login or type, naming the field", () => {
    expect(payloadProblem("issues.closed", issues(null))).toMatch(/^sender: /);
    expect(payloadProblem("issues.edited", issues(undefined))).toMatch(/^sender: /);
    expect(payloadProblem("issues.opened", issues({ login: "u" }))).toMatch(/^sender\.type: /);
    expect(payloadProblem("issues.labeled", issues({ type: "User" }))).toMatch(/^sender\.login: /);
  });

  it("still lets an issue comment's user be null (a deleted account)", () => {
    const comment = payload("issue_comment.created", (p) => {
      p.comment.user = null;
    });
    expect(payloadProblem("issue_comment.created", comment)).toBeNull();
  });
});
