import { intersectHosts } from "../sandbox/policy.js";
import { splitArgs } from "./agents/split-args.js";

/**
 * Which command verifies a change: the repository config's `verify.command`, else one detected from
 * the repository's files (in the order issue 10 gives: a package.json `test` script run with the
 * lockfile's package manager, pytest, `go test ./...`, `cargo test`, `mvn -q test`, `make test`),
 * else none. Detection reads the base commit, not the agent's worktree, so an agent cannot pick
 * the command that judges it; the masking guard flags a change to the test script itself.
 */

/** Reads a repository's root: its entry names, and a file's text (null when absent). */
export interface RepoFiles {
  root: ReadonlySet<string>;
  read(path: string): Promise<string | null>;
}

/** Where the runner writes a JUnit XML report, when we can ask it to. */
export type JUnitReport =
  /** Appended arguments that write the report to `file` (a path outside the worktree). */
  | { kind: "file"; args: (file: string) => string[] }
  /** The runner always writes reports here (worktree-relative directory), e.g. Maven Surefire. */
  | { kind: "dir"; dir: string };

/** How to verify one repository. `command` is argv, run without a shell. */
export interface VerifyPlan {
  source: "config" | "detected" | "none";
  /** Commands run before `command` in the same tree (dependency installs), each argv. */
  setup: string[][];
  command: string[] | null;
  /** The command as a person would type it, for the check run and the PR. */
  display: string;
  /** Hosts the sandbox lets the commands reach (package registries for installs). */
  allowedHosts: string[];
  junit: JUnitReport | null;
}

/** The `verify` options of the repository config that decide the plan. */
export interface VerifyPlanConfig {
  command?: string | undefined;
  setup?: string | undefined;
  allowedHosts?: readonly string[] | undefined;
  /**
   * The operator's ceiling (`BACKLOG_BOT_VERIFY_ALLOWED_HOSTS`): a repository's hosts are narrowed to
   * it, never widened (issue 11). Absent: every ecosystem's registries (`DEFAULT_VERIFY_HOSTS`).
   */
  operatorHosts?: readonly string[] | undefined;
}

/** Registries each ecosystem's installs need (their documented public endpoints). */
const REGISTRY_HOSTS = {
  node: ["registry.npmjs.org", "registry.yarnpkg.com"],
  python: ["pypi.org", "files.pythonhosted.org"],
  go: ["proxy.golang.org", "sum.golang.org"],
  rust: ["index.crates.io", "static.crates.io", "crates.io"],
  maven: ["repo.maven.apache.org", "repo1.maven.org"],
  none: [] as string[],
};

/** The hosts verify setup may reach unless the operator says otherwise: the registries above. */
export const DEFAULT_VERIFY_HOSTS: readonly string[] = Object.values(REGISTRY_HOSTS).flat();

/** npm's placeholder script from `npm init`: no tests at all. */
const NPM_INIT_TEST = /no test specified/;

/** A word quoted for display only (the command never goes through a shell). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** argv as a person would type it. */
export function displayCommand(argv: readonly string[]): string {
  return argv.map(shellWord).join(" ");
}

/**
 * The plan for a repository.
 * @param config - the `verify` group of the config in force (read from the default branch).
 * @param files - the base commit's files (see `gitTreeFiles`).
 * @throws BacklogBotError `INVALID_SETTINGS` when `verify.command` or `verify.setup` has an unterminated quote.
 */
export async function planVerification(config: VerifyPlanConfig, files: RepoFiles): Promise<VerifyPlan> {
  const plan = await planUnbounded(config, files);
  return { ...plan, allowedHosts: intersectHosts(plan.allowedHosts, config.operatorHosts ?? DEFAULT_VERIFY_HOSTS) };
}

async function planUnbounded(config: VerifyPlanConfig, files: RepoFiles): Promise<VerifyPlan> {
  if (config.command?.trim()) {
    const command = splitArgs(config.command);
    return {
      source: "config",
      setup: config.setup?.trim() ? [splitArgs(config.setup)] : [],
      command,
      display: displayCommand(command),
      allowedHosts: [...(config.allowedHosts ?? [])],
      junit: null,
    };
  }
  const detected = await detect(files);
  if (!detected) {
    return { source: "none", setup: [], command: null, display: "none", allowedHosts: [], junit: null };
  }
  return {
    ...detected,
    source: "detected",
    setup: config.setup?.trim() ? [splitArgs(config.setup)] : detected.setup,
    display: displayCommand(detected.command),
    allowedHosts: config.allowedHosts ? [...config.allowedHosts] : detected.allowedHosts,
  };
}

type Detected = Omit<VerifyPlan, "source" | "display"> & { command: string[] };

async function detect(files: RepoFiles): Promise<Detected | null> {
  const has = (name: string) => files.root.has(name);
  const node = has("package.json") ? await detectNode(files) : null;
  if (node) return node;
  if (await usesPytest(files)) {
    return {
      setup: [],
      command: ["python3", "-m", "pytest", "-p", "no:cacheprovider"],
      allowedHosts: REGISTRY_HOSTS.python,
      junit: { kind: "file", args: (file) => [`--junitxml=${file}`] },
    };
  }
  if (has("go.mod")) return { setup: [], command: ["go", "test", "./..."], allowedHosts: REGISTRY_HOSTS.go, junit: null };
  if (has("Cargo.toml")) return { setup: [], command: ["cargo", "test"], allowedHosts: REGISTRY_HOSTS.rust, junit: null };
  if (has("pom.xml")) {
    return {
      setup: [],
      command: ["mvn", "-q", "test"],
      allowedHosts: REGISTRY_HOSTS.maven,
      junit: { kind: "dir", dir: "target/surefire-reports" },
    };
  }
  for (const makefile of ["GNUmakefile", "makefile", "Makefile"]) {
    const text = has(makefile) ? await files.read(makefile) : null;
    if (text && /^test\s*:/m.test(text)) return { setup: [], command: ["make", "test"], allowedHosts: REGISTRY_HOSTS.none, junit: null };
  }
  return null;
}

/** Lockfile → package manager (each tool's documented lockfile name). */
const LOCKFILES: [file: string, manager: "pnpm" | "yarn" | "bun" | "npm"][] = [
  ["pnpm-lock.yaml", "pnpm"],
  ["yarn.lock", "yarn"],
  ["bun.lock", "bun"],
  ["bun.lockb", "bun"],
  ["package-lock.json", "npm"],
  ["npm-shrinkwrap.json", "npm"],
];

async function detectNode(files: RepoFiles): Promise<Detected | null> {
  let pkg: { scripts?: Record<string, unknown> | null; dependencies?: object | null; devDependencies?: object | null } | null;
  try {
    pkg = JSON.parse((await files.read("package.json")) ?? "{}");
  } catch {
    return null; // unreadable package.json: let the other detectors try
  }
  // The repository's file: valid JSON of any shape (`null`, a list, `"scripts": null`).
  if (!pkg || typeof pkg !== "object") return null;
  const script = pkg.scripts?.test;
  if (typeof script !== "string" || !script.trim() || NPM_INIT_TEST.test(script)) return null;
  const [lockfile, manager] = LOCKFILES.find(([file]) => files.root.has(file)) ?? [null, "npm" as const];
  const test = manager === "bun" ? ["bun", "run", "test"] : [manager, "test"];
  const hasDeps = Object.keys(pkg.dependencies ?? {}).length + Object.keys(pkg.devDependencies ?? {}).length > 0;
  const install: Record<typeof manager, string[]> = {
    npm: lockfile ? ["npm", "ci"] : ["npm", "install"],
    pnpm: ["pnpm", "install", "--frozen-lockfile"],
    yarn: files.root.has(".yarnrc.yml") ? ["yarn", "install", "--immutable"] : ["yarn", "install", "--frozen-lockfile"],
    bun: ["bun", "install", "--frozen-lockfile"],
  };
  const reporter = junitArgs(script.trim());
  // npm passes arguments to the script only after `--`; pnpm, yarn and bun pass them as they are.
  const separator = manager === "npm" ? ["--"] : [];
  return {
    setup: hasDeps ? [install[manager]] : [],
    command: test,
    allowedHosts: REGISTRY_HOSTS.node,
    junit: reporter ? { kind: "file", args: (file) => [...separator, ...reporter(file)] } : null,
  };
}

/**
 * Reporter arguments for test scripts we recognise exactly, so appending them cannot change which
 * tests run: vitest (https://vitest.dev/guide/reporters#junit-reporter) and node:test
 * (https://nodejs.org/api/test.html#test-reporters), each keeping its usual output on stdout.
 */
function junitArgs(script: string): ((file: string) => string[]) | null {
  if (/^vitest(\s+run|\s+--run)?$/.test(script)) {
    return (file) => ["--reporter=default", "--reporter=junit", `--outputFile.junit=${file}`];
  }
  if (/^node --test$/.test(script)) {
    return (file) => [
      "--test-reporter=tap",
      "--test-reporter-destination=stdout",
      "--test-reporter=junit",
      `--test-reporter-destination=${file}`,
    ];
  }
  return null;
}

/** pytest's config files (https://docs.pytest.org/en/stable/reference/customize.html), a conftest, or pytest among the declared dependencies. */
async function usesPytest(files: RepoFiles): Promise<boolean> {
  if (files.root.has("pytest.ini") || files.root.has("conftest.py")) return true;
  const probes: [string, RegExp][] = [
    ["pyproject.toml", /\[tool\.pytest|\bpytest\b/],
    ["setup.cfg", /\[tool:pytest\]/],
    ["tox.ini", /\[pytest\]/],
    ["requirements-dev.txt", /^pytest\b/m],
    ["requirements.txt", /^pytest\b/m],
  ];
  for (const [file, pattern] of probes) {
    if (!files.root.has(file)) continue;
    if (pattern.test((await files.read(file)) ?? "")) return true;
  }
  return false;
}
