import { readFileSync } from "node:fs";
import path from "node:path";
import { Context } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadRepositoryConfig } from "../../../src/config/load.js";
import { DEFAULT_CONFIG } from "../../../src/config/schema.js";
import { getRepository, upsertRepository } from "../../../src/store/repositories.js";
import { type GitHubStub, type StubRequest, startGitHubStub } from "../../fixtures/github-stub.js";
import { fastOctokit, silentLog, tempStore } from "../support/env.js";
import { routeConfig } from "../support/issue-routes.js";

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, "../../fixtures/config", `${name}.yml`), "utf8");

describe("loadRepositoryConfig in a webhook handler", () => {
  let stub: GitHubStub;
  let store: Awaited<ReturnType<typeof tempStore>>;
  let file: string | undefined;
  const comments: StubRequest[] = [];

  beforeEach(async () => {
    stub = await startGitHubStub();
    store = await tempStore();
    comments.length = 0;
    file = undefined;
    routeConfig(stub, () => file, { statuses: [] });
    stub.route("POST /repos/:owner/:repo/issues/:number/comments", (req) => {
      comments.push(req);
      return { status: 201, body: { id: comments.length } };
    });
  });
  afterEach(async () => {
    await stub.close();
    await store.cleanup();
  });

  const load = async () => {
    const repo =
      (await getRepository(store.db, "octo/app")) ?? (await upsertRepository(store.db, { fullName: "octo/app", installationId: 9 }));
    const payload = {
      action: "created",
      issue: { number: 12 },
      repository: { name: "app", owner: { login: "octo" } },
      installation: { id: 9 },
    };
    const context = new Context({ id: "d-1", name: "issue_comment", payload } as never, fastOctokit(stub.baseUrl) as never, silentLog);
    return loadRepositoryConfig(context as never, store.db, repo, silentLog);
  };

  it("no file, empty file: the defaults, no comment", async () => {
    expect(await load()).toEqual(DEFAULT_CONFIG);
    file = fixture("empty");
    expect(await load()).toEqual(DEFAULT_CONFIG);
    expect(comments).toHaveLength(0);
  });

  it("basic, then malformed and evil: the last valid config stays, each distinct error is told once", async () => {
    file = fixture("basic");
    const basic = await load();
    expect(basic.stale.daysBeforeStale).toBe(90);

    for (const name of ["malformed", "malformed", "evil", "evil"]) {
      file = fixture(name);
      await expect(load()).resolves.toEqual(basic);
    }
    expect(comments).toHaveLength(2);
    const bodies = comments.map((c) => (c.body as { body: string }).body);
    expect(bodies[0]).toContain("not valid YAML");
    expect(bodies[1]).toMatch(/alias/i);
    expect((await getRepository(store.db, "octo/app"))?.config_error).toMatch(/alias/i);

    // Fixed: the error is cleared, and a recurrence of the old error is told again.
    file = fixture("basic");
    await load();
    expect((await getRepository(store.db, "octo/app"))?.config_error).toBeNull();
    file = fixture("malformed");
    await load();
    expect(comments).toHaveLength(3);
  });

  it("an API failure keeps the last valid config without recording an error", async () => {
    file = fixture("basic");
    const basic = await load();
    stub.route("GET /repos/:owner/:repo/contents/:path", () => ({ status: 500, body: { message: "boom" } }));
    await expect(load()).resolves.toEqual(basic);
    expect((await getRepository(store.db, "octo/app"))?.config_error).toBeNull();
  });
});
