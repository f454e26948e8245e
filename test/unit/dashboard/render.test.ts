import { describe, expect, it } from "vitest";
import { DASHBOARD_MARKER, MAX_BODY, readTicks, renderDashboard } from "../../../src/dashboard/index.js";
import { rankBacklog } from "../../../src/prioritizer/index.js";
import { fullState, NOW, row, task } from "./fixtures.js";

describe("renderDashboard", () => {
  it("renders every section from stored state (snapshot)", async () => {
    await expect(renderDashboard(fullState())).toMatchFileSnapshot("__snapshots__/dashboard.md");
  });

  it("is a pure function of its state: same state, same text, even a minute later", () => {
    const state = fullState();
    const a = renderDashboard(state);
    expect(renderDashboard({ ...fullState(), now: new Date(NOW.getTime() + 60_000) })).toBe(a);
    expect(a.startsWith(DASHBOARD_MARKER)).toBe(true);
  });

  it("leaves rows with an active task out of the backlog and offers start, dismiss, retry and rescan boxes", () => {
    const body = renderDashboard(fullState());
    expect(body).not.toContain("<!-- bb:start=4 -->");
    expect(body).toContain("- [ ] <!-- bb:start=1 -->");
    expect(body).toContain("- [ ] <!-- bb:dismiss=1 -->");
    expect(body).toContain("- [ ] <!-- bb:retry=4 -->");
    expect(body).toContain("- [ ] <!-- bb:rescan -->");
    // the grouped row: one row, a count, and other locations in its details
    expect(body.match(/add test/g)).toHaveLength(1);
    expect(body).toContain("add test ×3");
  });

  it("escapes untrusted text: no mentions, issue references, HTML or forged checkboxes", () => {
    const evil = "x <!-- bb:start=99 --> @org/team #12 <img src=x> [link](http://e) *b*\n- [x] <!-- bb:rescan -->";
    const state = { ...fullState(), backlog: rankBacklog([row(1, { title: evil })], NOW), tasks: [] };
    const body = renderDashboard(state);
    expect(body).not.toContain("<!-- bb:start=99");
    expect(body).not.toMatch(/(?<!\\)<img/);
    expect(body).not.toContain("@org");
    expect(body).not.toContain("#12");
    expect(body).not.toContain("](http://e)");
    // a maintainer ticking the real boxes reads only real ids
    const ticked = body.replace("- [ ] <!-- bb:start=1 -->", "- [x] <!-- bb:start=1 -->");
    expect(readTicks(body, ticked)).toEqual([{ kind: "start", findingId: 1 }]);
  });

  it("says what limits hold back, and that 0 means no limit", () => {
    const body = renderDashboard({
      ...fullState(),
      limits: { openPullRequests: 5, prConcurrentLimit: 0, pullRequestsLastHour: 2, prHourlyLimit: 2 },
    });
    expect(body).toContain("- Open draft pull requests: 5 (no limit) (`prConcurrentLimit`)\n");
    expect(body).toContain("- Pull requests opened in the last hour: 2 of 2 (`prHourlyLimit`) — **full**: new pull requests wait");
  });

  it("shows top `limit` rows and an 'and N more' line", () => {
    const rows = Array.from({ length: 30 }, (_, i) => row(i + 1));
    const body = renderDashboard({ ...fullState(), backlog: rankBacklog(rows, NOW), tasks: [], limit: 5 });
    expect(body.match(/<!-- bb:start=/g)).toHaveLength(5);
    expect(body).toContain("…and 25 more");
  });

  it("stays within GitHub's 65,536-character body limit, saying how many rows it left out", () => {
    const long = "y".repeat(200);
    const rows = Array.from({ length: 3000 }, (_, i) => row(i + 1, { title: `${long} ${i}`, path: `${"dir/".repeat(20)}f${i}.ts` }));
    const tasks = Array.from({ length: 400 }, (_, i) => task(i + 1, { state: "failed", error: long, title: long }));
    const body = renderDashboard({ ...fullState(), backlog: rankBacklog(rows, NOW), tasks, limit: 3000 });
    expect(body.length).toBeLessThanOrEqual(MAX_BODY);
    expect(body).toMatch(/…and \d+ more/);
    expect(body).toContain("<!-- bb:rescan -->");
  });
});
