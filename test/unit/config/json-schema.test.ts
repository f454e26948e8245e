import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_DOCS_FILE, JSON_SCHEMA_FILE, renderConfigDocs, renderJsonSchema } from "../../../src/config/json-schema.js";
import { DEFAULT_CONFIG } from "../../../src/config/schema.js";

const root = path.join(import.meta.dirname, "../../..");

describe("generated config schema and docs", () => {
  it("schema/backlog-bot.schema.json matches the zod schema (run `npm run schema` if not)", () => {
    expect(readFileSync(path.join(root, JSON_SCHEMA_FILE), "utf8")).toBe(renderJsonSchema());
  });

  it("docs/configuration.md matches the zod schema (run `npm run schema` if not)", () => {
    expect(readFileSync(path.join(root, CONFIG_DOCS_FILE), "utf8")).toBe(renderConfigDocs());
  });

  it("documents every option with its default", () => {
    const docs = renderConfigDocs();
    const leaves = (value: object, prefix = ""): string[] =>
      Object.entries(value).flatMap(([k, v]) =>
        v && typeof v === "object" && !Array.isArray(v) ? leaves(v, `${prefix}${k}.`) : [`${prefix}${k}`],
      );
    for (const key of leaves(DEFAULT_CONFIG)) {
      const row = docs.split("\n").find((line) => line.startsWith(`| \`${key}\` |`));
      expect(row, key).toBeDefined();
      const value = key.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], DEFAULT_CONFIG);
      expect(row).toContain(`\`${JSON.stringify(value)}\``);
    }
  });
});
