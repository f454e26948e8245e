import { describe, expect, it } from "vitest";
import { repoConfigSchema, SCANNER_NAMES } from "../../../src/config/schema.js";
import { enabledScanners, scanners } from "../../../src/scanners/registry.js";

describe("scanner registry", () => {
  it("has one scanner per name the config accepts, each declaring the kinds it vouches for", () => {
    expect(Object.keys(scanners).sort()).toEqual([...SCANNER_NAMES].sort());
    for (const [name, scanner] of Object.entries(scanners)) {
      expect(scanner.name).toBe(name);
      expect(scanner.kinds.length).toBeGreaterThan(0);
    }
  });

  it("runs what the config chooses, all by default", () => {
    expect(enabledScanners(repoConfigSchema.parse({})).map((s) => s.name)).toEqual([...SCANNER_NAMES]);
    expect(enabledScanners(repoConfigSchema.parse({ scanners: ["issues", "todo"] })).map((s) => s.name)).toEqual(["todo", "issues"]);
    expect(enabledScanners(repoConfigSchema.parse({ scanners: [] }))).toEqual([]);
  });
});
