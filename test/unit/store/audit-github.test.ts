import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Octokit } from "@octokit/rest";
import { describe, expect, it } from "vitest";
import { listAudit } from "../../../src/store/audit.js";
import { auditGithubWrites, describeWrite } from "../../../src/store/audit-github.js";
import { backends } from "../../support/backends.js";

describe("describeWrite", () => {
  it("names writes by route and verb, and leaves reads, GraphQL and app auth alone", () => {
    expect(
      describeWrite({
        method: "POST",
        url: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        owner: "o",
        repo: "r",
        issue_number: 12,
      }),
    ).toEqual({
      action: "github.comments.create",
      repository: "o/r",
      target: "issue#12",
    });
    expect(
      describeWrite({ method: "PATCH", url: "/repos/{owner}/{repo}/check-runs/{check_run_id}", owner: "o", repo: "r", check_run_id: 5 }),
    ).toMatchObject({
      action: "github.check-runs.update",
      target: "check_run:5",
    });
    expect(describeWrite({ method: "GET", url: "/repos/{owner}/{repo}/issues", owner: "o", repo: "r" })).toBeUndefined();
    expect(describeWrite({ method: "POST", url: "/graphql" })).toBeUndefined();
    expect(describeWrite({ method: "POST", url: "/app/installations/{installation_id}/access_tokens" })).toBeUndefined();
  });
});

describe.each(backends())("auditGithubWrites on $name", (backend) => {
  it("records each write with its outcome through a real Octokit, not the reads", async () => {
    const { db } = await backend.fresh();
    const server = createServer((req, res) => {
      if (req.method === "POST" && req.url?.endsWith("/labels"))
        res.writeHead(422, { "content-type": "application/json" }).end('{"message":"Validation Failed"}');
      else res.writeHead(req.method === "POST" ? 201 : 200, { "content-type": "application/json" }).end('{"id":1}');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const octokit = new (Octokit.plugin(auditGithubWrites(db)))({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      request: { retries: 0 },
    });
    await octokit.rest.issues.get({ owner: "o", repo: "r", issue_number: 3 });
    await octokit.rest.issues.createComment({ owner: "o", repo: "r", issue_number: 3, body: "hi" });
    await expect(octokit.rest.issues.addLabels({ owner: "o", repo: "r", issue_number: 3, labels: ["stale"] })).rejects.toMatchObject({
      status: 422,
    });
    server.close();
    const { items } = await listAudit(db);
    expect(items.map((i) => [i.action, i.repository, i.target, i.outcome])).toEqual([
      ["github.labels.create", "o/r", "issue#3", "failed"],
      ["github.comments.create", "o/r", "issue#3", "ok"],
    ]);
    expect(items[0]?.detail).toMatchObject({ method: "POST", status: 422 });
  });
});
