import { compileGlobs } from "../util/glob.js";

/** One `.gitattributes` line that sets or unsets a Linguist attribute; the others are dropped. */
export interface AttributeRule {
  /** The pattern as written (gitignore syntax, no negation). */
  pattern: string;
  /** `linguist-vendored` set (true) or unset (false, from `-linguist-vendored` or `=false`). */
  vendored?: boolean;
  /** `linguist-generated` set (true) or unset (false). */
  generated?: boolean;
}

/** How vendored and generated paths are treated; all fields optional. */
export interface PathPolicy {
  /** Parsed `.gitattributes` of the default branch (`parseGitAttributes`). */
  attributes?: readonly AttributeRule[];
  /** Globs (src/util/glob.ts) of repo-relative paths left out of the backlog. Wins over everything. */
  exclude?: readonly string[];
  /** Globs (src/util/glob.ts) of paths that are first-party even inside a vendored tree or a generated name. */
  include?: readonly string[];
  /** Default `demote` (a `vendored` part in the breakdown); `skip` leaves vendored findings out. */
  vendored?: "demote" | "skip";
  /** Default `skip`: a generated file is fixed in its generator, never in place. */
  generated?: "demote" | "skip";
}

/** What a path is, and why, in words for the breakdown. */
export type PathClass = { class: "first_party" } | { class: "vendored" | "generated" | "excluded"; reason: string; skip: boolean };

/**
 * Vendored trees, after GitHub Linguist's vendor.yml (https://github.com/github-linguist/linguist/blob/main/lib/linguist/vendor.yml):
 * a path segment `deps/`, `third_party/`, `vendor/`, `external/`, `node_modules/`, `bower_components/`.
 */
const VENDORED_TREE = /(?:^|\/)(deps|third[-_]?party|vendors?|external|node_modules|bower_components)\//;
/**
 * Generated files, after Linguist's generated.rb: autotools output (`configure`, `config.guess`, ...),
 * minified files (`*.min.*`), lockfiles and protobuf output.
 */
const GENERATED_NAME =
  /^(?:configure|config\.guess|config\.sub|ltmain\.sh|aclocal\.m4|Makefile\.in|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb|Cargo\.lock|Gemfile\.lock|poetry\.lock|Pipfile\.lock|composer\.lock|go\.sum|.+\.lock|.+\.min\.[^.]+|.+\.pb\.(?:go|cc|h)|.+_pb2\.py)$/;

const FIRST_PARTY: PathClass = { class: "first_party" };
const EXCLUDED: PathClass = { class: "excluded", reason: "matches `exclude`", skip: true };

const ATTRIBUTE = /^(-|!)?linguist-(vendored|generated)(?:=(.*))?$/;

/**
 * Linguist rules kept from one `.gitattributes`: the last ones, as later lines win in git. The
 * ranking tests every distinct path against every rule, and the file may hold 256 KB
 * (src/scheduler/git-attributes.ts), some 10,000 rules; real files hold a few dozen.
 */
export const MAX_ATTRIBUTE_RULES = 1_000;

/**
 * Parses a `.gitattributes` file into the rules that set or unset `linguist-vendored` or
 * `linguist-generated` (git's syntax: https://git-scm.com/docs/gitattributes), at most the last
 * `MAX_ATTRIBUTE_RULES`. Pure; never throws; malformed lines are skipped. `!attr` (unspecified)
 * counts as unset.
 */
export function parseGitAttributes(text: string): AttributeRule[] {
  const rules: AttributeRule[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const [pattern, ...attrs] = line.split(/\s+/);
    if (!pattern || pattern.startsWith("!")) continue; // negative patterns are forbidden in gitattributes
    const rule: AttributeRule = { pattern };
    for (const attr of attrs) {
      const m = ATTRIBUTE.exec(attr);
      if (!m) continue;
      const on = !m[1] && (m[3] === undefined || m[3].toLowerCase() !== "false");
      if (m[2] === "vendored") rule.vendored = on;
      else rule.generated = on;
    }
    if (rule.vendored !== undefined || rule.generated !== undefined) rules.push(rule);
  }
  return rules.length > MAX_ATTRIBUTE_RULES ? rules.slice(-MAX_ATTRIBUTE_RULES) : rules;
}

/**
 * The repository's globs (config `todo.exclude`/`include`, `.gitattributes`) as one test linear in
 * the path (src/util/glob.ts): they and the paths both come from the repository, and a
 * backtracking regular expression of them could hold the server for minutes per path. A pattern
 * with too many alternatives matches nothing (the config's validation names it).
 */
const safeGlobs = (globs: readonly string[]): ((path: string) => boolean) => compileGlobs(globs, { skipInvalid: true });

/** gitattributes matching: no slash matches the base name at any depth; a slash anchors at the root. */
function compileAttribute(pattern: string): (path: string, name: string) => boolean {
  if (pattern.endsWith("/")) return () => false; // git: a directory pattern never matches the files inside it
  const test = safeGlobs([pattern.replace(/^\//, "")]);
  return pattern.includes("/") ? test : (_path, name) => test(name);
}

/**
 * A path classifier for one ranking, compiled once. Precedence: `exclude`, then `include`, then
 * `.gitattributes` (last matching line wins, as in git), then the built-in lists. Consecutive calls
 * with one path (a file's findings are stored together) are answered from the last result, and
 * the objects of the built-in classes are shared per tree and per file name; a cache of every path
 * cost more than it saved at 100,000 mostly distinct paths (bench/rank.ts).
 */
export function pathClassifier(policy: PathPolicy = {}): (path: string) => PathClass {
  const exclude = safeGlobs(policy.exclude ?? []);
  const include = safeGlobs(policy.include ?? []);
  const rules = (policy.attributes ?? []).map((r) => ({ ...r, match: compileAttribute(r.pattern) }));
  const skipVendored = policy.vendored === "skip";
  const skipGenerated = policy.generated !== "demote";
  const vendoredTrees = new Map<string, PathClass>();
  const generatedNames = new Map<string, PathClass>();
  const attributeClasses: Record<"vendored" | "generated", PathClass> = {
    generated: { class: "generated", reason: "linguist-generated in .gitattributes", skip: skipGenerated },
    vendored: { class: "vendored", reason: "linguist-vendored in .gitattributes", skip: skipVendored },
  };
  const classify = (path: string): PathClass => {
    if (exclude(path)) return EXCLUDED;
    if (include(path)) return FIRST_PARTY;
    const name = path.slice(path.lastIndexOf("/") + 1);
    let vendored: boolean | undefined;
    let generated: boolean | undefined;
    for (const rule of rules) {
      if (!rule.match(path, name)) continue;
      if (rule.vendored !== undefined) vendored = rule.vendored;
      if (rule.generated !== undefined) generated = rule.generated;
    }
    if (generated) return attributeClasses.generated;
    if (vendored) return attributeClasses.vendored;
    if (generated === undefined && GENERATED_NAME.test(name)) {
      let known = generatedNames.get(name);
      if (!known) {
        known = { class: "generated", reason: `generated file (${name})`, skip: skipGenerated };
        generatedNames.set(name, known);
      }
      return known;
    }
    const tree = vendored === undefined ? VENDORED_TREE.exec(path) : null;
    if (tree) {
      const dir = tree[1] as string;
      let known = vendoredTrees.get(dir);
      if (!known) {
        known = { class: "vendored", reason: `vendored code (${dir}/)`, skip: skipVendored };
        vendoredTrees.set(dir, known);
      }
      return known;
    }
    return FIRST_PARTY;
  };
  let lastPath: string | undefined;
  let lastClass: PathClass = FIRST_PARTY;
  return (path) => {
    if (path !== lastPath) {
      lastClass = classify(path);
      lastPath = path;
    }
    return lastClass;
  };
}
