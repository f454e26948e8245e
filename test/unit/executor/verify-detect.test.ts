import { describe, expect, it } from "vitest";
import { displayCommand, planVerification, type RepoFiles } from "../../../src/executor/verify-detect.js";
import { gitTreeFiles } from "../../../src/executor/verify-tree.js";
import { commitFiles, initRepo, removeDir, writeFiles } from "../../fixtures/git-repo.js";

function files(map: Record<string, string>): RepoFiles {
  return { root: new Set(Object.keys(map)), read: async (file) => map[file] ?? null };
}

const pkg = (scripts: Record<string, string>, deps: Record<string, string> = {}) => JSON.stringify({ scripts, devDependencies: deps });

describe("planVerification", () => {
  it("prefers verify.command and verify.setup from the config, split without a shell", async () => {
    const plan = await planVerification(
      { command: "sh -c 'npm test && npm run lint'", setup: "npm ci", allowedHosts: ["registry.npmjs.org"] },
      files({ "package.json": pkg({ test: "jest" }) }),
    );
    expect(plan).toMatchObject({
      source: "config",
      command: ["sh", "-c", "npm test && npm run lint"],
      setup: [["npm", "ci"]],
      display: "sh -c 'npm test && npm run lint'",
      allowedHosts: ["registry.npmjs.org"],
      junit: null,
    });
  });

  it.each([
    ["package-lock.json", ["npm", "test"], ["npm", "ci"]],
    ["pnpm-lock.yaml", ["pnpm", "test"], ["pnpm", "install", "--frozen-lockfile"]],
    ["yarn.lock", ["yarn", "test"], ["yarn", "install", "--frozen-lockfile"]],
    ["bun.lock", ["bun", "run", "test"], ["bun", "install", "--frozen-lockfile"]],
  ])("runs the package.json test script with the package manager of %s", async (lockfile, command, setup) => {
    const plan = await planVerification({}, files({ "package.json": pkg({ test: "jest" }, { jest: "^29" }), [lockfile]: "" }));
    expect(plan).toMatchObject({
      source: "detected",
      command,
      setup: [setup],
      allowedHosts: expect.arrayContaining(["registry.npmjs.org"]),
    });
  });

  it("installs nothing when package.json has no dependencies, and ignores npm init's placeholder script", async () => {
    expect((await planVerification({}, files({ "package.json": pkg({ test: "node --test" }) }))).setup).toEqual([]);
    const placeholder = await planVerification({}, files({ "package.json": pkg({ test: 'echo "Error: no test specified" && exit 1' }) }));
    expect(placeholder).toMatchObject({ source: "none", command: null, display: "none" });
  });

  it("asks vitest and node:test for a JUnit report only when the script is exactly the runner", async () => {
    const vitest = await planVerification({}, files({ "package.json": pkg({ test: "vitest run" }) }));
    expect(vitest.junit?.kind === "file" && vitest.junit.args("/r.xml")).toEqual([
      "--",
      "--reporter=default",
      "--reporter=junit",
      "--outputFile.junit=/r.xml",
    ]);
    const node = await planVerification({}, files({ "package.json": pkg({ test: "node --test" }), "yarn.lock": "" }));
    expect(node.junit?.kind === "file" && node.junit.args("/r.xml")).toContain("--test-reporter-destination=/r.xml");
    expect(node.junit?.kind === "file" && node.junit.args("/r.xml")[0]).not.toBe("--"); // yarn passes arguments as they are
    expect((await planVerification({}, files({ "package.json": pkg({ test: "vitest run && eslint ." }) }))).junit).toBeNull();
  });

  it.each([
    [{ "pytest.ini": "[pytest]\n" }, ["python3", "-m", "pytest", "-p", "no:cacheprovider"]],
    [{ "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n" }, ["python3", "-m", "pytest", "-p", "no:cacheprovider"]],
    [{ "go.mod": "module x\n" }, ["go", "test", "./..."]],
    [{ "Cargo.toml": "[package]\n" }, ["cargo", "test"]],
    [{ "pom.xml": "<project/>" }, ["mvn", "-q", "test"]],
    [{ Makefile: "build:\n\tcc x.c\ntest: build\n\t./run-tests\n" }, ["make", "test"]],
  ])("detects %o", async (map, command) => {
    expect((await planVerification({}, files(map))).command).toEqual(command);
  });

  it("reports none for a Makefile without a test target, or nothing at all", async () => {
    // A package.json of an unexpected shape is no Node project, not an error.
    for (const odd of ["null", "[1]", '"text"', '{"scripts": null}', '{"scripts": "test"}', "{"]) {
      expect((await planVerification({}, files({ "package.json": odd }))).source).toBe("none");
    }
    expect((await planVerification({}, files({ Makefile: "all:\n\tcc x.c\n" }))).source).toBe("none");
    expect((await planVerification({}, files({ "README.md": "hi" }))).source).toBe("none");
  });

  it("reads the base commit from git, not the work tree an agent may have changed", async () => {
    const dir = initRepo();
    try {
      const sha = commitFiles(dir, { "package.json": pkg({ test: "node --test" }) });
      writeFiles(dir, { "package.json": pkg({ test: "true" }), "go.mod": "module x\n" });
      const plan = await planVerification({}, await gitTreeFiles(dir, sha));
      expect(plan.command).toEqual(["npm", "test"]);
    } finally {
      removeDir(dir);
    }
  });
});

describe("displayCommand", () => {
  it("quotes words a person would have to quote", () => {
    expect(displayCommand(["sh", "-c", "a && b", "it's"])).toBe("sh -c 'a && b' 'it'\\''s'");
  });
});

describe("the operator's ceiling on verify hosts", () => {
  it("narrows a repository's hosts to the operator's list, never widens it", async () => {
    const repo = files({ "package.json": pkg({ test: "node --test" }), "package-lock.json": "{}" });
    const asked = await planVerification({ command: "npm test", allowedHosts: ["registry.npmjs.org", "evil.example.com"] }, repo);
    expect(asked.allowedHosts).toEqual(["registry.npmjs.org"]);
    const narrowed = await planVerification(
      { command: "npm test", allowedHosts: ["registry.npmjs.org", "npm.internal.example"], operatorHosts: ["*.internal.example"] },
      repo,
    );
    expect(narrowed.allowedHosts).toEqual(["npm.internal.example"]);
    // Detected commands get their ecosystem's registries, within the default ceiling.
    expect((await planVerification({}, repo)).allowedHosts).toContain("registry.npmjs.org");
  });
});
