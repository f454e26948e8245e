/**
 * What the anti-masking guard looks for, per test framework. Each rule names the framework whose
 * documentation defines the marker, so a reviewer can check why a line was flagged:
 * Jest/Vitest/Mocha (`it.skip`, `.only`, `xit`, `skipIf`, `fails`), node:test (`{ skip: true }`,
 * `t.skip()`), pytest (`@pytest.mark.skip|skipif|xfail`, `pytest.skip()`), unittest
 * (`@unittest.skip*`, `expectedFailure`, `skipTest`), Rust (`#[ignore]`), Go (`t.Skip*`),
 * JUnit 4/5 (`@Ignore`, `@Disabled`), xUnit/NUnit/MSTest (`Skip =`, `[Ignore]`).
 */

/** Paths that hold tests, by the conventions of the common runners. */
export const TEST_PATHS: readonly RegExp[] = [
  /(^|\/)(tests?|__tests__|specs?|testing)\//i,
  /\.(test|spec)\.[cm]?[jt]sx?$/,
  /(^|\/)test_[^/]*\.py$/,
  /_test\.(py|go)$/,
  /(^|\/)src\/test\//,
  /Tests?\.(java|kt|cs|swift)$/,
  /_spec\.rb$/,
];

/** Whether `file` is a test file by path. */
export function isTestPath(file: string): boolean {
  return TEST_PATHS.some((re) => re.test(file));
}

/** Markers that stop a test from running or from counting: adding one is flagged in any file. */
export const SKIP_MARKERS: readonly RegExp[] = [
  /\b(?:it|test|describe|suite|context|specify)(?:\.\w+)*\.(?:skip|only|skipIf|runIf|fails)\b/,
  /(?:^|[^\w.])(?:xit|xtest|xdescribe|xcontext|xspecify|fit|fdescribe)\s*\(/,
  /\{[^}]*\b(?:skip|only)\s*:\s*(?:true|["'`])/,
  /\b(?:t|ctx|context)\.skip\s*\(/,
  /@pytest\.mark\.(?:skip|skipif|xfail)\b/,
  /\bpytest\.(?:skip|xfail)\s*\(/,
  /@unittest\.(?:skip|skipIf|skipUnless|expectedFailure)\b/,
  /\bself\.skipTest\s*\(|raise\s+(?:unittest\.)?SkipTest\b/,
  /#\[ignore\b/,
  /\b\w+\.(?:Skip|SkipNow|Skipf)\s*\(/,
  /@(?:Disabled|Ignore)\b/,
  /\[(?:Fact|Theory|Test|TestMethod)\s*\([^)]*\bSkip\s*=|\[Ignore\b/,
];

/** Lines that define one test case; group 1, when present, is its name. */
export const TEST_DEFINITIONS: readonly RegExp[] = [
  /\b(?:it|test|specify)(?:\.\w+)*\s*\(\s*(?:"([^"]*)"|'([^']*)'|`([^`]*)`)/,
  /^\s*(?:async\s+)?def\s+(test\w*)\s*\(/,
  /^func\s+(Test\w*)\s*\(/,
  /#\[(?:tokio::)?test\b/,
  /@Test\b|\[(?:Fact|Theory|Test|TestMethod)\b/,
];

/** Lines that assert something. */
export const ASSERTIONS: readonly RegExp[] = [
  /\bexpect\s*\(/,
  /\bassert(?:\.\w+)?\s*\(/,
  /^\s*assert\b/,
  /\bself\.assert\w+\s*\(/,
  /\b(?:t|b)\.(?:Error|Errorf|Fatal|Fatalf|Fail|FailNow)\s*\(/,
  /\b(?:assert|require)\.\w+\s*\(/,
  /\bassert(?:_eq|_ne)?!\s*\(/,
  /\bassert\w*\s*\(|\bassertThat\s*\(/,
];

/** Assertions that pin a value or a behaviour. */
export const STRICT_ASSERTIONS: readonly RegExp[] = [
  /\.(?:toBe|toEqual|toStrictEqual|toMatchObject|toMatch|toThrow|toThrowError|toHaveBeenCalledWith|toContain|toHaveLength|toBeCloseTo)\s*\(/,
  /\bassert\.(?:strictEqual|deepStrictEqual|equal|deepEqual|throws|rejects|match|notStrictEqual)\s*\(/,
  /\bassert(?:Equal|Equals|NotEqual|Raises|In|Is|AlmostEqual|CountEqual|DictEqual|ListEqual)\s*\(/,
  /^\s*assert\b.*(?:==|!=|<=|>=|<|>|\bin\b|\bis\b|isclose)/,
  /\bassert_(?:eq|ne)!\s*\(/,
];

/** Assertions that accept almost anything. */
export const LOOSE_ASSERTIONS: readonly RegExp[] = [
  /\.(?:toBeTruthy|toBeDefined|toBeFalsy|toBeUndefined|toBeNull|toBeNaN)\s*\(\s*\)/,
  /\bexpect\.anything\s*\(|\.not\.toThrow\s*\(/,
  /\bassert(?:\.ok)?\s*\(/,
  /\bassert(?:True|False|IsNotNone|IsNone)\s*\(/,
  /^\s*assert\s+(?!.*(?:==|!=|<=|>=|<|>|\bin\b|\bis\b|isclose))/,
  /\bassert!\s*\(/,
];

/** Test runner configuration files, where exclusions hide tests. */
export const TEST_CONFIG_FILES =
  /(^|\/)((vitest|jest|playwright|karma)\.config\.[cm]?[jt]s|pytest\.ini|pyproject\.toml|setup\.cfg|tox\.ini|conftest\.py|\.mocharc\.\w+|jest\.config\.json)$/;

/** Settings that exclude or deselect tests, or let an empty run pass. */
export const TEST_CONFIG_EXCLUSIONS =
  /--deselect|(?:^|\s)-k\s|--ignore\b|testPathIgnorePatterns|modulePathIgnorePatterns|\bexclude\b|passWithNoTests|collect_ignore|--exclude\b|\bskip\b/;

/** A comment line (the marker in it does nothing), in the common languages' syntaxes. */
export function isComment(line: string): boolean {
  return /^\s*(\/\/|\/\*|\*|#(?!\[)|--|<!--)/.test(line);
}

/** Whether any rule matches `line`. */
export function matchesAny(rules: readonly RegExp[], line: string): boolean {
  return rules.some((re) => re.test(line));
}

/** The name of the test `line` defines, `""` for a definition without a readable name, null for none. */
export function testName(line: string): string | null {
  for (const re of TEST_DEFINITIONS) {
    const m = re.exec(line);
    if (m) return m.slice(1).find((g) => g !== undefined) ?? "";
  }
  return null;
}
