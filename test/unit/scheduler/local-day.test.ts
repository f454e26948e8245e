import { describe, expect, it } from "vitest";
import { startOfLocalDay } from "../../../src/scheduler/autopilot.js";

const start = (iso: string, timeZone: string) => startOfLocalDay(new Date(iso), timeZone).toISOString();

describe("startOfLocalDay", () => {
  it("is local midnight in the time zone, which may be on the previous UTC day", () => {
    expect(start("2026-01-15T23:00:00Z", "America/Los_Angeles")).toBe("2026-01-15T08:00:00.000Z");
    expect(start("2026-01-16T01:00:00Z", "America/Los_Angeles")).toBe("2026-01-15T08:00:00.000Z");
    expect(start("2026-01-15T12:00:00.500Z", "UTC")).toBe("2026-01-15T00:00:00.000Z");
    expect(start("2026-01-15T12:00:00Z", "Asia/Kolkata")).toBe("2026-01-14T18:30:00.000Z");
    // Exactly at midnight the day has just begun.
    expect(start("2026-01-15T08:00:00Z", "America/Los_Angeles")).toBe("2026-01-15T08:00:00.000Z");
    expect(start("2026-01-15T07:59:59Z", "America/Los_Angeles")).toBe("2026-01-14T08:00:00.000Z");
  });

  it("follows DST: the day's midnight has the offset in force at midnight, not at `now`", () => {
    // 8 March 2026, 23-hour day: midnight PST (UTC-8); by evening it is PDT (UTC-7).
    expect(start("2026-03-09T06:30:00Z", "America/Los_Angeles")).toBe("2026-03-08T08:00:00.000Z");
    // 1 November 2026, 25-hour day: midnight PDT (UTC-7); by evening it is PST (UTC-8).
    expect(start("2026-11-02T07:30:00Z", "America/Los_Angeles")).toBe("2026-11-01T07:00:00.000Z");
    // Europe: 29 March 2026 (CET → CEST at 02:00).
    expect(start("2026-03-29T20:00:00Z", "Europe/Berlin")).toBe("2026-03-28T23:00:00.000Z");
  });

  it("starts a day whose midnight DST skips at the first instant after the gap", () => {
    // São Paulo, 4 November 2018: 00:00 (UTC-3) became 01:00 (UTC-2).
    expect(start("2018-11-04T12:00:00Z", "America/Sao_Paulo")).toBe("2018-11-04T03:00:00.000Z");
  });

  it("throws RangeError for an unknown time zone", () => {
    expect(() => startOfLocalDay(new Date(), "Mars/Olympus_Mons")).toThrow(RangeError);
  });
});
