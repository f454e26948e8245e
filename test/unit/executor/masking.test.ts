import { rmSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { detectMasking, type MaskingFlag } from "../../../src/executor/masking.js";
import { snapshotTree, treeChanges, treeDiff } from "../../../src/executor/verify-tree.js";
import { commitFiles, initRepo, removeDir, writeFiles } from "../../fixtures/git-repo.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

/** Commits `base`, applies `change` (null deletes the file) uncommitted, and runs the guard on the real git diff. */
async function flags(base: Record<string, string>, change: Record<string, string | null>): Promise<MaskingFlag[]> {
  const dir = initRepo();
  dirs.push(dir);
  const sha = commitFiles(dir, base);
  const writes = Object.fromEntries(Object.entries(change).filter((e): e is [string, string] => e[1] !== null));
  writeFiles(dir, writes);
  for (const [file, content] of Object.entries(change)) if (content === null) rmSync(path.join(dir, file));
  const tree = await snapshotTree(dir);
  return detectMasking(await treeDiff(dir, sha, tree), await treeChanges(dir, sha, tree));
}

const kinds = (list: MaskingFlag[]) => list.map((f) => f.kind).sort();

const JS_TEST = [
  'import { expect, it } from "vitest";',
  'import { add } from "../src/add.js";',
  "",
  'it("adds", () => {',
  "  expect(add(1, 2)).toBe(3);",
  "});",
  "",
].join("\n");

describe("detectMasking", () => {
  it("passes an honest fix with a new test", async () => {
    const result = await flags(
      { "src/add.js": "export const add = (a, b) => a - b;\n", "test/add.test.js": JS_TEST },
      {
        "src/add.js": "export const add = (a, b) => a + b;\n",
        "test/add.test.js": `${JS_TEST}it("adds negatives", () => {\n  expect(add(-1, -2)).toBe(-3);\n});\n`,
      },
    );
    expect(result).toEqual([]);
  });

  it.each([
    ["it.skip", JS_TEST.replace('it("adds"', 'it.skip("adds"')],
    ["describe.only", `${JS_TEST}describe.only("x", () => {});\n`],
    ["xit", JS_TEST.replace('it("adds"', 'xit("adds"')],
    ["node:test skip option", JS_TEST.replace('it("adds", ()', 'it("adds", { skip: true }, ()')],
    ["vitest skipIf", JS_TEST.replace('it("adds"', 'it.skipIf(process.env.CI)("adds"')],
  ])("flags %s with its file and line", async (_name, changed) => {
    const result = await flags({ "test/add.test.js": JS_TEST }, { "test/add.test.js": changed });
    expect(result).toContainEqual(expect.objectContaining({ kind: "skip-marker", path: "test/add.test.js" }));
    expect(result.find((f) => f.kind === "skip-marker")?.line).toBeGreaterThan(0);
  });

  it.each([
    [
      "@pytest.mark.skip",
      "tests/test_calc.py",
      "def test_sub():\n    assert sub(2, 1) == 1\n",
      "@pytest.mark.skip(reason='flaky')\ndef test_sub():\n    assert sub(2, 1) == 1\n",
    ],
    [
      "#[ignore] (in a source file)",
      "src/lib.rs",
      "#[test]\nfn subs() { assert_eq!(sub(2, 1), 1); }\n",
      "#[test]\n#[ignore]\nfn subs() { assert_eq!(sub(2, 1), 1); }\n",
    ],
    [
      "t.Skip",
      "calc_test.go",
      'func TestSub(t *testing.T) {\n\tif Sub(2, 1) != 1 {\n\t\tt.Fatal("x")\n\t}\n}\n',
      'func TestSub(t *testing.T) {\n\tt.Skip("later")\n\tif Sub(2, 1) != 1 {\n\t\tt.Fatal("x")\n\t}\n}\n',
    ],
    [
      "@Disabled",
      "src/test/java/CalcTest.java",
      "@Test\nvoid sub() { assertEquals(1, sub(2, 1)); }\n",
      "@Disabled\n@Test\nvoid sub() { assertEquals(1, sub(2, 1)); }\n",
    ],
  ])("flags %s", async (_name, file, before, after) => {
    expect(kinds(await flags({ [file]: before }, { [file]: after }))).toEqual(["skip-marker"]);
  });

  it("does not flag removing a skip marker, or a marker inside a comment", async () => {
    const skipped = JS_TEST.replace('it("adds"', 'it.skip("adds"');
    expect(await flags({ "test/add.test.js": skipped }, { "test/add.test.js": JS_TEST })).toEqual([]);
    expect(
      await flags({ "test/add.test.js": JS_TEST }, { "test/add.test.js": `${JS_TEST}// it.skip("one day") would hide this\n` }),
    ).toEqual([]);
  });

  it("flags a deleted test file", async () => {
    const result = await flags({ "src/add.js": "x\n", "test/add.test.js": JS_TEST }, { "test/add.test.js": null });
    expect(result).toEqual([
      { kind: "deleted-test-file", path: "test/add.test.js", line: null, detail: "test file test/add.test.js deleted" },
    ]);
  });

  it("flags a deleted or commented-out test case, but not one moved to another file", async () => {
    const two = `${JS_TEST}it("adds zero", () => {\n  expect(add(1, 0)).toBe(1);\n});\n`;
    const deleted = await flags({ "test/add.test.js": two }, { "test/add.test.js": JS_TEST });
    expect(kinds(deleted)).toEqual(["deleted-test-case", "removed-assertions"]);
    const commented = await flags(
      { "test/add.test.js": two },
      { "test/add.test.js": `${JS_TEST}// it("adds zero", () => {\n//   expect(add(1, 0)).toBe(1);\n// });\n` },
    );
    expect(kinds(commented)).toEqual(["deleted-test-case", "removed-assertions"]);
    const moved = await flags(
      { "test/add.test.js": two },
      {
        "test/add.test.js": JS_TEST,
        "test/zero.test.js": 'import { expect, it } from "vitest";\nit("adds zero", () => {\n  expect(add(1, 0)).toBe(1);\n});\n',
      },
    );
    expect(moved).toEqual([]);
  });

  it("flags a strict assertion swapped for a loose one (JavaScript and Python), once", async () => {
    const js = await flags({ "test/add.test.js": JS_TEST }, { "test/add.test.js": JS_TEST.replace(".toBe(3)", ".toBeTruthy()") });
    expect(js).toEqual([{ kind: "loosened-assertion", path: "test/add.test.js", line: 5, detail: "expect(add(1, 2)).toBeTruthy();" }]);
    const py = await flags(
      { "tests/test_add.py": "def test_add():\n    assert add(1, 2) == 3\n" },
      { "tests/test_add.py": "def test_add():\n    assert add(1, 2)\n" },
    );
    expect(kinds(py)).toEqual(["loosened-assertion"]);
  });

  it("flags an expected value rewritten, but not a changed subject", async () => {
    const rewritten = await flags({ "test/add.test.js": JS_TEST }, { "test/add.test.js": JS_TEST.replace(".toBe(3)", ".toBe(4)") });
    expect(rewritten).toEqual([
      { kind: "rewritten-assertion", path: "test/add.test.js", line: 5, detail: "expect(add(1, 2)).toBe(3); → expect(add(1, 2)).toBe(4);" },
    ]);
    expect(
      await flags({ "test/add.test.js": JS_TEST }, { "test/add.test.js": JS_TEST.replace("add(1, 2)).toBe(3)", "add(2, 2)).toBe(4)") }),
    ).toEqual([]);
  });

  it("flags removed assertions", async () => {
    const two = JS_TEST.replace("  expect(add(1, 2)).toBe(3);\n", "  expect(add(1, 2)).toBe(3);\n  expect(add(2, 2)).toBe(4);\n");
    expect(kinds(await flags({ "test/add.test.js": two }, { "test/add.test.js": JS_TEST }))).toEqual(["removed-assertions"]);
  });

  it("flags a changed test script and an exclusion added to a runner config", async () => {
    const pkg = (test: string) => `{\n  "name": "x",\n  "scripts": {\n    "test": "${test}"\n  }\n}\n`;
    expect(await flags({ "package.json": pkg("vitest run") }, { "package.json": pkg("vitest run || true") })).toEqual([
      { kind: "test-command-changed", path: "package.json", line: 4, detail: '"test": "vitest run || true"' },
    ]);
    const config = "export default { test: {} };\n";
    const excluded = "export default { test: {\n  exclude: ['test/add.test.js'],\n} };\n";
    expect(kinds(await flags({ "vitest.config.ts": config }, { "vitest.config.ts": excluded }))).toEqual(["test-config-exclusion"]);
  });
});
