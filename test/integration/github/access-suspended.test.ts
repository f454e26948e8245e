import { generateKeyPairSync } from "node:crypto";
import type { Octokit } from "@octokit/rest";
import { Probot, ProbotOctokit } from "probot";
import { afterEach, describe, expect, it } from "vitest";
import { createAppAccess } from "../../../src/github/access.js";
import { now } from "../../../src/store/db.js";
import { getRepository, setInstallationSuspended, upsertRepository } from "../../../src/store/repositories.js";
import { createLogger } from "../../../src/util/logger.js";
import { type GitHubStub, startGitHubStub } from "../../fixtures/github-stub.js";
import { backends } from "../../support/backends.js";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();

let stub: GitHubStub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

/**
 * GitHub answers a token request for a suspended installation 403 "This installation has been
 * suspended": an `installation.suspend` the store missed is recorded there, by either way a token is minted.
 */
describe("a token refused because the installation is suspended", () => {
  it("records the suspension (git's token and an installation client's first request) and still throws; another 403 records nothing", async () => {
    stub = await startGitHubStub({
      "POST /app/installations/:id/access_tokens": (req) =>
        req.params.id === "7"
          ? {
              status: 403,
              body: {
                message: "This installation has been suspended",
                documentation_url: "https://docs.github.com/rest/reference/apps#create-an-installation-access-token-for-an-app",
              },
            }
          : { status: 403, body: { message: "Resource not accessible by integration" } },
    });
    const [sqlite] = backends();
    if (!sqlite) throw new Error("no SQLite backend");
    const { db } = await sqlite.fresh();
    await upsertRepository(db, { fullName: "octo/a", installationId: 7 });
    await upsertRepository(db, { fullName: "octo/b", installationId: 8 });
    const probot = new Probot({
      appId: 1,
      privateKey: pem,
      baseUrl: stub.baseUrl,
      log: createLogger({ level: "silent" }),
      Octokit: ProbotOctokit.defaults((o: Record<string, unknown>) => ({ ...o, retry: { enabled: false } })),
    });
    const told: number[] = [];
    const access = createAppAccess(probot, {
      onSuspended: async (id) => {
        told.push(id);
        await setInstallationSuspended(db, id, now());
      },
    });

    await expect(access.token(7)).rejects.toMatchObject({ status: 403 });
    expect(told).toEqual([7]);
    expect((await getRepository(db, "octo/a"))?.suspended_at).not.toBeNull();
    await db.updateTable("repositories").set({ suspended_at: null }).execute();

    const octokit: Octokit = await access.octokit(7);
    await expect(octokit.rest.repos.get({ owner: "octo", repo: "a" })).rejects.toMatchObject({ status: 403 });
    expect(told).toEqual([7, 7]);
    expect((await getRepository(db, "octo/a"))?.suspended_at).not.toBeNull();

    await expect(access.token(8)).rejects.toMatchObject({ status: 403 });
    await expect((await access.octokit(8)).rest.repos.get({ owner: "octo", repo: "b" })).rejects.toMatchObject({ status: 403 });
    expect(told).toEqual([7, 7]);
    expect((await getRepository(db, "octo/b"))?.suspended_at).toBeNull();
  });
});
