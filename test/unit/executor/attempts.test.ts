import { describe, expect, it } from "vitest";
import { type Attempt, attemptAgents, attemptsNote, chooseAttempt } from "../../../src/executor/attempts.js";
import type { TaskRun } from "../../../src/executor/run-task.js";
import type { Verification } from "../../../src/executor/verify.js";

const attempt = (agent: string, status: Verification["status"] | null, diffLines: number | null, error: string | null = null): Attempt => ({
  agent,
  diffLines,
  error,
  run: { verification: status ? ({ status, verified: status === "passed" } as Verification) : undefined } as TaskRun,
});

describe("parallel attempts", () => {
  it("runs the task's agent first, then the other enabled ones, up to parallel.max", () => {
    expect(attemptAgents(["claude-code", "codex", "aider"], "codex", 2)).toEqual(["codex", "claude-code"]);
    expect(attemptAgents(["claude-code", "codex"], null, 5)).toEqual(["claude-code", "codex"]);
    expect(attemptAgents(["claude-code", "codex"], "gone", 1)).toEqual(["claude-code"]);
  });

  it("keeps the verified change with the smallest diff, else the best status", () => {
    const small = attempt("b", "passed", 3);
    expect(chooseAttempt([attempt("a", "passed", 10), small, attempt("c", "failed", 1)])).toBe(small);
    const closest = attempt("b", "no_new_failures", 40);
    expect(chooseAttempt([attempt("a", "flagged", 1), closest, attempt("c", "failed", 2)])).toBe(closest);
    expect(chooseAttempt([attempt("a", null, null), attempt("b", null, null, "crashed")])).toBeNull();
  });

  it("says who tried and why the winner won", () => {
    const a = attempt("a", "passed", 3);
    const note = attemptsNote([a, attempt("b", "failed", 9), attempt("c", null, null, "binary missing\nmore")], a);
    expect(note).toBe(
      [
        "Parallel attempts (`strategy: parallel`): kept `a` (verified, with the smallest diff).",
        "  - `a`: passed, 3 changed line(s)",
        "  - `b`: failed, 9 changed line(s)",
        "  - `c`: failed (binary missing)",
      ].join("\n"),
    );
  });
});
