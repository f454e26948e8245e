import { describe, expect, it } from "vitest";
import { safeReturn } from "../../../src/web/auth/oauth.js";

const ORIGIN = "https://backlog.example";

describe("safeReturn (where sign-in returns to)", () => {
  it("keeps this site's paths, query and fragment", () => {
    expect(safeReturn("/repos/o/a?state=failed#top")).toBe("/repos/o/a?state=failed#top");
    expect(safeReturn("/tasks/12")).toBe("/tasks/12");
  });

  it("never leaves the site, however a browser would read the Location", () => {
    const hostile = [
      "//evil.example/x",
      "/\t/evil.example/x",
      "/\n/evil.example/x",
      "/\r\n/evil.example",
      "/\\evil.example",
      "/\\/evil.example",
      "/.//evil.example",
      "/./\t/evil.example",
      "https://evil.example/",
      "javascript:alert(1)",
      " /x",
      "",
      null,
    ];
    for (const value of hostile) {
      const target = safeReturn(value);
      expect(new URL(target, ORIGIN).origin, JSON.stringify(value)).toBe(ORIGIN);
      expect(target.startsWith("//"), JSON.stringify(value)).toBe(false);
    }
  });

  it("returns header-safe ASCII: a path outside Latin-1 is percent-encoded, as browsers send it", () => {
    expect(safeReturn("/日本")).toBe("/%E6%97%A5%E6%9C%AC");
    expect(safeReturn("/a b?q=ü")).toBe("/a%20b?q=%C3%BC");
  });
});
