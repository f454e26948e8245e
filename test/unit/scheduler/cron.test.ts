import { validate } from "node-cron";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../../src/config/schema.js";
import { defaultSchedule, scheduleOf } from "../../../src/scheduler/cron.js";

describe("defaultSchedule", () => {
  it("is a valid daily cron, stable for a name", () => {
    const cron = defaultSchedule("octo-org/hello-world");
    expect(validate(cron)).toBe(true);
    expect(cron).toMatch(/^\d{1,2} \d{1,2} \* \* \*$/);
    expect(defaultSchedule("octo-org/hello-world")).toBe(cron);
    expect(defaultSchedule("Octo-Org/Hello-World")).toBe(cron);
  });

  it("spreads repositories over the day", () => {
    const slots = new Set(Array.from({ length: 200 }, (_, i) => defaultSchedule(`org/repo-${i}`)));
    expect(slots.size).toBeGreaterThan(160);
    const hours = new Set([...slots].map((s) => s.split(" ")[1]));
    expect(hours.size).toBeGreaterThan(20);
  });

  it("the config's schedule and timezone win when set", () => {
    expect(scheduleOf("o/r", DEFAULT_CONFIG)).toEqual({ cron: defaultSchedule("o/r"), timezone: "UTC" });
    expect(scheduleOf("o/r", { schedule: "0 3 * * 1", timezone: "Asia/Tokyo" })).toEqual({ cron: "0 3 * * 1", timezone: "Asia/Tokyo" });
  });
});
