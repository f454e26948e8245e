import { describe, expect, it } from "vitest";
import { splitArgs } from "../../../../src/executor/agents/split-args.js";

describe("splitArgs", () => {
  it.each([
    ["my-agent --fast", ["my-agent", "--fast"]],
    ['  a  "b c"  d ', ["a", "b c", "d"]],
    ["a 'b \"c\" $HOME' d", ["a", 'b "c" $HOME', "d"]],
    ['a "x\\"y\\\\z"', ["a", 'x"y\\z']],
    ["a\\ b c", ["a b", "c"]],
    ["a '' b", ["a", "", "b"]],
    ["echo hi; rm -rf /", ["echo", "hi;", "rm", "-rf", "/"]],
  ])("%s", (line, words) => {
    expect(splitArgs(line)).toEqual(words);
  });

  it("refuses an unterminated quote", () => {
    expect(() => splitArgs('a "b')).toThrow(/unterminated/);
  });
});
