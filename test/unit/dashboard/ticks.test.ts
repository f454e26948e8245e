import { describe, expect, it } from "vitest";
import { readTicks, renderDashboard, untick } from "../../../src/dashboard/index.js";
import { fullState } from "./fixtures.js";

const tick = (body: string, id: string) => body.replace(`- [ ] <!-- bb:${id} -->`, `- [x] <!-- bb:${id} -->`);

describe("readTicks", () => {
  const base = renderDashboard(fullState());

  it("reads each newly ticked box as an action", () => {
    const after = tick(tick(tick(tick(base, "start=1"), "retry=4"), "dismiss=2"), "rescan");
    expect(readTicks(base, after)).toEqual([
      { kind: "dismiss", findingId: 2 },
      { kind: "start", findingId: 1 },
      { kind: "retry", taskId: 4 },
      { kind: "rescan" },
    ]);
  });

  it("counts two maintainers' ticks of different rows, each from its own edit", () => {
    const first = tick(base, "start=1"); // maintainer A: edit 1, from base
    const second = tick(first, "start=2"); // maintainer B: GitHub applies B's tick on top of A's
    const actions = [...readTicks(base, first), ...readTicks(first, second)];
    expect(actions).toEqual([
      { kind: "start", findingId: 1 },
      { kind: "start", findingId: 2 },
    ]);
  });

  it("asks for nothing when a box was already ticked, is unticked, or the body did not change", () => {
    const ticked = tick(base, "start=1");
    expect(readTicks(ticked, ticked)).toEqual([]);
    expect(readTicks(ticked, base)).toEqual([]);
    expect(readTicks(undefined, ticked)).toEqual([]);
  });

  it("ignores boxes whose id is not a well-formed marker", () => {
    const forged = `${base}\n- [x] <!-- bb:start=0 -->\n- [x] <!-- bb:start=abc -->\n- [x] <!-- bb:launch=3 -->`;
    expect(readTicks(base, forged)).toEqual([]);
  });
});

describe("untick", () => {
  it("reverts exactly the given ticks and leaves the rest of the body alone", () => {
    const base = renderDashboard(fullState());
    const after = tick(tick(base, "start=1"), "rescan");
    const reverted = untick(after, [{ kind: "start", findingId: 1 }]);
    expect(reverted).toBe(tick(base, "rescan"));
    expect(untick(reverted, [{ kind: "rescan" }])).toBe(base);
  });
});
