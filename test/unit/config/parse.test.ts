import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../../src/config/parse.js";
import { DEFAULT_CONFIG } from "../../../src/config/schema.js";

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, "../../fixtures/config", `${name}.yml`), "utf8");

describe("parseConfigText", () => {
  it("basic: every option the file sets, defaults for the rest", () => {
    const result = parseConfigText(fixture("basic"));
    if (!result.ok) throw new Error(result.error);
    expect(result.config.schedule).toBe("30 3 * * 1-5");
    expect(result.config.timezone).toBe("Europe/Berlin");
    expect(result.config.scanners).toEqual(["todo", "stale", "issues"]);
    expect(result.config.stale.daysBeforeStale).toBe(90);
    expect(result.config.stale.exemptLabels).toEqual(["pinned", "security"]);
    expect(result.config.stale.mark).toBe(false);
    expect(result.config.stale.staleLabel).toBe("Stale");
    expect(result.config.todo.keywords).toEqual(["TODO", "FIXME", "HACK"]);
    expect(result.config.issues.labels).toEqual(["bug", "regression"]);
    expect(result.config.prConcurrentLimit).toBe(2);
    expect(result.config.allowedBots).toEqual([]);
  });

  it("empty: the defaults", () => {
    expect(parseConfigText(fixture("empty"))).toEqual({ ok: true, config: DEFAULT_CONFIG });
    expect(parseConfigText("")).toEqual({ ok: true, config: DEFAULT_CONFIG });
  });

  it("malformed: a YAML error with its position", () => {
    const result = parseConfigText(fixture("malformed"));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(/^\.github\/backlog-bot\.yml: not valid YAML: .*line \d+/);
  });

  it("evil: the alias bomb is refused quickly, before anything expands", () => {
    const started = Date.now();
    const result = parseConfigText(fixture("evil"));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/alias/i);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("evil without the bomb: huge values, deep nesting and unknown keys, each named by its path", () => {
    const text = fixture("evil")
      .split("\n")
      .filter((line) => !/^[a-i]: &/.test(line))
      .join("\n");
    const result = parseConfigText(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain("prConcurrentLimit:");
    expect(result.error).toContain("stale.daysBeforeStale:");
    expect(result.error).toContain("stale.operationsPerRun:");
    expect(result.error).toContain("nested: unknown option");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("wrong types and typos name the offending key", () => {
    const result = parseConfigText(
      "stale:\n  daysBeforeStale: soon\n  exemptLabel: [pinned]\nschedule: every day\ntimezone: Mars/Olympus\n",
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.split("\n")).toHaveLength(4);
    expect(result.error.split("\n")).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\.github\/backlog-bot\.yml: stale\.daysBeforeStale: .*expected number/),
        ".github/backlog-bot.yml: stale.exemptLabel: unknown option",
        expect.stringMatching(/schedule: must be a five-field cron expression/),
        expect.stringMatching(/timezone: must be an IANA time zone/),
      ]),
    );
  });

  it("a non-mapping document and an oversized file are errors, not exceptions", () => {
    expect(parseConfigText("- a\n- b\n")).toMatchObject({ ok: false, error: expect.stringContaining("(root)") });
    expect(parseConfigText(`# ${"x".repeat(70_000)}`)).toMatchObject({ ok: false, error: expect.stringContaining("larger than") });
  });

  it("nesting past 64 levels is refused before the YAML is composed, however it is written", () => {
    // Composed, each overflowed the stack; about one run in three the overflow hit V8's regular
    // expression compiler, which aborts the whole process ("process out of memory"), past any catch.
    for (const text of [
      `agent: ${"[".repeat(5000)}${"]".repeat(5000)}`,
      "{".repeat(30_000),
      `stale:\n  exemptLabels:\n    ${"- ".repeat(30_000)}x\n`,
      `${"? ".repeat(30_000)}x\n`,
      `a: ${"&x [".repeat(6_000)}`,
    ]) {
      expect(parseConfigText(text)).toEqual({
        ok: false,
        error: ".github/backlog-bot.yml: lists or mappings nest deeper than 64 levels; backlog-bot did not read it",
      });
    }
    // 64 levels are read (and then judged by the schema).
    const deepest = parseConfigText(`nested: ${"[".repeat(63)}${"]".repeat(63)}`);
    expect(deepest).toEqual({ ok: false, error: ".github/backlog-bot.yml: nested: unknown option" });
  });
});
