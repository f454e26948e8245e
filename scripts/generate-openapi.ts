/**
 * Writes docs/openapi.json from the API's route table and zod schemas
 * (`npx tsx scripts/generate-openapi.ts`). With `--check`, writes nothing and exits 1 when stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { OPENAPI_FILE, renderOpenApi } from "../src/web/api/openapi.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
const target = path.join(root, OPENAPI_FILE);
const text = renderOpenApi(version);
let current = "";
try {
  current = readFileSync(target, "utf8");
} catch {
  // missing: stale
}
if (process.argv.includes("--check")) {
  if (current !== text) {
    console.error(`${OPENAPI_FILE} is out of date; run npx tsx scripts/generate-openapi.ts`);
    process.exit(1);
  }
} else if (current !== text) writeFileSync(target, text);
