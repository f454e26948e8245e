import { describe, expect, it } from "vitest";
import { AGE_CAP_DAYS, type RankInput, rankFindings } from "../../../src/prioritizer/index.js";

const now = new Date("2026-11-21T00:00:00Z");
const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
const todo = (fingerprint: string, path: string, authoredAt: string): RankInput => ({
  kind: "todo",
  fingerprint,
  title: `distinct text ${fingerprint}`,
  path,
  line: 1,
  signals: { marker: "TODO", authoredAt },
  firstSeenAt: now.toISOString(),
});

describe("ranking: the age cap", () => {
  it("is where the age part stops growing", () => {
    const at = (days: number) => rankFindings([todo("a", "a.ts", daysAgo(days))], now)[0]?.score;
    expect(at(AGE_CAP_DAYS)).toBe(at(AGE_CAP_DAYS * 10));
    expect(at(AGE_CAP_DAYS - 2)).toBeLessThan(at(AGE_CAP_DAYS) ?? 0);
  });

  it("breaks ties by age only up to the cap, so a scan that dates old lines at the cap ranks as full blame does", () => {
    // Full blame: b.ts's line is years older than a.ts's; a capped scan dates both at the cap.
    const blame = [todo("a", "a.ts", daysAgo(400)), todo("b", "b.ts", daysAgo(3000)), todo("c", "c.ts", daysAgo(30))];
    const capped = blame.map((f) =>
      f.fingerprint === "c" ? f : { ...f, signals: { ...f.signals, authoredAt: daysAgo(AGE_CAP_DAYS + 1) } },
    );
    const order = (items: RankInput[]) => rankFindings(items, now).map((r) => r.fingerprint);
    expect(order(blame)).toEqual(["a", "b", "c"]);
    expect(order(capped)).toEqual(order(blame));
    // The breakdown still tells the true age.
    expect(
      rankFindings(blame, now)
        .find((r) => r.fingerprint === "b")
        ?.breakdown.some((p) => p.reason === "3000 days old"),
    ).toBe(true);
    // A date the scan only bounds (older than its horizon) is said as such.
    const bounded = {
      ...todo("d", "d.ts", daysAgo(AGE_CAP_DAYS + 1)),
      signals: { authoredAt: daysAgo(AGE_CAP_DAYS + 1), authoredBefore: true },
    };
    expect(rankFindings([bounded], now)[0]?.breakdown.find((p) => p.signal === "age")?.reason).toBe(`over ${AGE_CAP_DAYS + 1} days old`);
  });
});
