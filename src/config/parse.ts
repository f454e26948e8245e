import { type CST, Parser, parse as parseYaml } from "yaml";
import type { z } from "zod";
import { type RepoConfig, repoConfigSchema } from "./schema.js";

/** Path of the repository config in the repository. */
export const CONFIG_PATH = ".github/backlog-bot.yml";

/** Larger files are refused unread: a real config is a few hundred bytes. */
export const MAX_CONFIG_BYTES = 64 * 1024;

/**
 * Alias expansions allowed per document. The `yaml` package's own default is 100; a "billion
 * laughs" file needs thousands, and a hand-written config needs a handful
 * (https://eemeli.org/yaml/#parse-options, `maxAliasCount`).
 */
export const MAX_ALIAS_COUNT = 50;

/**
 * Collections nested deeper than this are refused before the YAML is composed. The `yaml`
 * package composes recursively: a 30 KB file of `[`, `{` or `- ` nests thousands deep and
 * overflows the stack, and when the overflow lands in V8's regular-expression compiler the whole
 * process aborts ("RegExpCompiler Allocation failed - process out of memory"), which no `catch`
 * sees; that happened in about one run in three. A real config nests 3 or 4 deep; `yaml` itself
 * composes several hundred levels before overflowing.
 */
export const MAX_CONFIG_DEPTH = 64;

/**
 * How deep the collections of `text` nest (a top-level mapping is 1), read from yaml's concrete
 * syntax tree, which its parser builds without recursion, and walked here with a stack of our own.
 */
function nestingDepth(text: string): number {
  let max = 0;
  const pending: [CST.Token | null | undefined, number][] = [];
  for (const token of new Parser().parse(text)) pending.push([token, 0]);
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [token, depth] = next;
    if (!token) continue;
    if (token.type === "document") pending.push([token.value, depth]);
    else if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      max = Math.max(max, depth + 1);
      for (const item of token.items) pending.push([item.key, depth + 1], [item.value, depth + 1]);
    }
  }
  return max;
}

/** A config file's outcome: the validated config, or a message naming the file, the key path and the problem. */
export type ParsedConfig = { ok: true; config: RepoConfig } | { ok: false; error: string };

/**
 * Parses and validates the text of `.github/backlog-bot.yml`. Never throws: bad YAML, alias bombs,
 * oversized or too deeply nested files, wrong types and unknown keys all come back as `{ ok: false, error }`.
 * An empty file (or one holding only comments) is the defaults.
 */
export function parseConfigText(text: string): ParsedConfig {
  if (Buffer.byteLength(text, "utf8") > MAX_CONFIG_BYTES) {
    return { ok: false, error: `${CONFIG_PATH}: the file is larger than ${MAX_CONFIG_BYTES / 1024} KiB; backlog-bot did not read it` };
  }
  if (nestingDepth(text) > MAX_CONFIG_DEPTH) {
    return {
      ok: false,
      error: `${CONFIG_PATH}: lists or mappings nest deeper than ${MAX_CONFIG_DEPTH} levels; backlog-bot did not read it`,
    };
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: MAX_ALIAS_COUNT, uniqueKeys: true, prettyErrors: true, logLevel: "error" });
  } catch (error) {
    const message = (error as Error).message.split("\n")[0] ?? "unreadable";
    return { ok: false, error: `${CONFIG_PATH}: not valid YAML: ${message}` };
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, error: `${CONFIG_PATH}: (root): expected a mapping of options, got ${Array.isArray(raw) ? "a list" : typeof raw}` };
  }
  return validateConfig(raw);
}

/** Validates an already-parsed value against `repoConfigSchema`. */
export function validateConfig(raw: unknown): ParsedConfig {
  const parsed = repoConfigSchema.safeParse(raw);
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, error: formatIssues(parsed.error.issues) };
}

/** One line per problem, each with the dotted path of the offending key (`stale.daysBeforeStale`). */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .flatMap((issue) =>
      issue.code === "unrecognized_keys"
        ? issue.keys.map((key) => `${CONFIG_PATH}: ${[...issue.path, key].map(String).join(".")}: unknown option`)
        : [`${CONFIG_PATH}: ${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`],
    )
    .slice(0, 20)
    .join("\n");
}
