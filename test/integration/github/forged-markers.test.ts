import { Octokit } from "@octokit/rest";
import { afterEach, describe, expect, it } from "vitest";
import { DASHBOARD_MARKER } from "../../../src/dashboard/index.js";
import { commentOnce, markerLine } from "../../../src/github/comments.js";
import { findDashboardIssue } from "../../../src/scheduler/dashboard.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";

let stub: GitHubStub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

describe("the bot's hidden markers, written by someone else", () => {
  it("a person's comment carrying a reply's marker does not silence the reply; the bot's own does", async () => {
    const mallory = { id: 1, body: `looks done ${markerLine("task-7:pr_open:1:0")}`, user: { login: "mallory", type: "User" } };
    const listed: unknown[] = [mallory];
    const posted: string[] = [];
    stub = await startGitHubStub({
      "GET /repos/:owner/:repo/issues/:number/comments": () => ({ body: listed }),
      "POST /repos/:owner/:repo/issues/:number/comments": (req) => {
        const body = (req.body as { body: string }).body;
        posted.push(body);
        listed.push({ id: 2, body, user: { login: "backlog-bot[bot]", type: "Bot" } });
        return { status: 201, body: { id: 2 } };
      },
    });
    const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
    const reply = { owner: "o", repo: "r", issueNumber: 3, body: "Draft pull request #9 is ready.", marker: "task-7:pr_open:1:0" };
    expect(await commentOnce(octokit, reply)).toBe(true);
    expect(await commentOnce(octokit, reply)).toBe(false);
    expect(posted).toHaveLength(1);
  });

  it("the dashboard search passes over a person's issue that quotes the dashboard marker", async () => {
    const issues = [
      {
        number: 3,
        state: "open",
        body: `${DASHBOARD_MARKER}\n- [ ] <!-- bb:dismiss=1 --> I read the guide`,
        user: { login: "mallory", type: "User" },
      },
      { number: 8, state: "open", body: `${DASHBOARD_MARKER}\nThe real one`, user: { login: "backlog-bot[bot]", type: "Bot" } },
    ];
    stub = await startGitHubStub({ "GET /repos/:owner/:repo/issues": () => ({ body: issues }) });
    const octokit = new Octokit({ baseUrl: stub.baseUrl, request: { retries: 0 } });
    // The bot's login unknown (GET /app failed): no creator filter, so the author decides.
    expect(await findDashboardIssue(octokit, { owner: "o", repo: "r" })).toEqual({ number: 8, state: "open" });
  });
});
