/**
 * Writes `schema/backlog-bot.schema.json` and `docs/configuration.md` from the zod schema
 * (`npm run schema`). With `--check`, writes nothing and exits 1 when either file is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CONFIG_DOCS_FILE, JSON_SCHEMA_FILE, renderConfigDocs, renderJsonSchema } from "../src/config/json-schema.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const check = process.argv.includes("--check");
let stale = false;
for (const [file, text] of [
  [JSON_SCHEMA_FILE, renderJsonSchema()],
  [CONFIG_DOCS_FILE, renderConfigDocs()],
] as const) {
  const target = path.join(root, file);
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {
    // missing: stale
  }
  if (current === text) continue;
  stale = true;
  if (check) console.error(`${file} is out of date; run npm run schema`);
  else writeFileSync(target, text);
}
if (check && stale) process.exit(1);
