import { describe, expect, it } from "vitest";
import { random } from "../../../bench/rank-rows.js";
import { normaliseText, parseTime } from "../../../src/prioritizer/index.js";
import { referenceNormaliseText } from "./reference-ranking.js";

describe("parseTime", () => {
  it("equals Date.parse on the store's and GitHub's forms, their edge cases, and other text", () => {
    const fixed = [
      "2026-01-02T03:04:05.678Z",
      "2026-01-02T03:04:05Z",
      "2026-02-28T23:59:59.999Z",
      "2026-02-29T00:00:00.000Z",
      "2026-04-31T00:00:00Z",
      "2026-11-30T24:00:00.000Z",
      "2026-11-30T23:60:00Z",
      "2026-13-01T00:00:00Z",
      "2026-00-10T00:00:00Z",
      "2026-01-00T00:00:00Z",
      "0999-12-31T00:00:00.000Z",
      "0099-01-01T00:00:00.000Z",
      "1000-01-01T00:00:00.000Z",
      "9999-12-28T23:59:59.999Z",
      "2026-1-01T00:00:00.0000Z",
      "2026-01-01T00:00:00.00ZZ",
      "2026-01-01 00:00:00.000Z",
      "2026-01-01T00:00:00.000+",
      "2026-0a-01T00:00:00.000Z",
      "20x6-01-01T00:00:00Z",
      "2026-01-01T00:00:00+01:00",
      "Mon, 01 Jun 2026 10:00:00 GMT",
      "2026-01-01",
      "",
      "not a date",
    ];
    const r = random(7);
    const pad = (n: number, w: number) => String(n).padStart(w, "0");
    const generated = Array.from({ length: 20_000 }, () => {
      const s = `${pad(Math.floor(r() * 10_000), 4)}-${pad(Math.floor(r() * 14), 2)}-${pad(Math.floor(r() * 33), 2)}T${pad(Math.floor(r() * 26), 2)}:${pad(Math.floor(r() * 62), 2)}:${pad(Math.floor(r() * 62), 2)}${r() < 0.5 ? `.${pad(Math.floor(r() * 1000), 3)}` : ""}Z`;
      // Now and then one character replaced by any other.
      if (r() < 0.2) {
        const at = Math.floor(r() * s.length);
        return `${s.slice(0, at)}${String.fromCharCode(32 + Math.floor(r() * 95))}${s.slice(at + 1)}`;
      }
      return s;
    });
    const differ = [...fixed, ...generated].filter((s) => !Object.is(parseTime(s), Date.parse(s)));
    expect(differ).toEqual([]);
  });
});

describe("normaliseText", () => {
  it("equals the three-pass normalisation on plain, spaced, punctuated and Unicode text", () => {
    const pieces = ["add", "Test", " ", "  ", "\t", "\n", "\u00a0", "\u2028", ".", "…", "!", "?", ":", ">", "-", ";", ",", "İ", "ß", "x"];
    const r = random(11);
    const texts = Array.from({ length: 20_000 }, () =>
      Array.from({ length: Math.floor(r() * 8) }, () => pieces[Math.floor(r() * pieces.length)]).join(""),
    );
    const differ = [...texts, "", " ", "Add  test.", "> - Add test…", "already normal"].filter(
      (t) => normaliseText(t) !== referenceNormaliseText(t),
    );
    expect(differ).toEqual([]);
  });
});
