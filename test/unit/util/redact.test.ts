import { describe, expect, it } from "vitest";
import { redact } from "../../../src/util/logger.js";

const KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEcanaryBody\n-----END RSA PRIVATE KEY-----";

describe("redact", () => {
  it("replaces token shapes and private keys, and keeps the text around them", () => {
    const token = `ghs_${"a".repeat(36)}`;
    expect(redact(`clone with ${token} now`)).toBe("clone with [REDACTED] now");
    expect(redact("Authorization: Bearer abcdefghijklmnopqrstuvwx")).toBe("Authorization: Bearer [REDACTED]");
    expect(redact(`before\n${KEY}\nbetween\n${KEY.replace("RSA ", "")}\nafter`)).toBe("before\n[REDACTED]\nbetween\n[REDACTED]\nafter");
  });

  it("redacts a private key cut short (no END line) to the end of the text", () => {
    expect(redact("log line\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXkt")).toBe("log line\n[REDACTED]");
    expect(redact("-----END RSA PRIVATE KEY----- alone")).toBe("-----END RSA PRIVATE KEY----- alone");
  });

  it("reads 1 MB of BEGIN lines in one pass (the lazy BEGIN...END expression searched the rest of the text from each)", () => {
    // 32,000 BEGIN lines with no END: about 14 s with the old expression, past this test's timeout.
    const hostile = "-----BEGIN RSA PRIVATE KEY-----".repeat(32_000);
    expect(redact(`ok ${hostile}`)).toBe("ok [REDACTED]");
  });
});
