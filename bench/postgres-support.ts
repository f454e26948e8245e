import { createHmac, randomUUID } from "node:crypto";
import { WEBHOOK_SECRET } from "../test/e2e/harness.js";

export { makeRemote, payload, startStub } from "../test/e2e/harness.js";

/** A delivery's body and headers, signed as GitHub signs it (HMAC-SHA256 of the body). */
export function deliverBody(event: string, body: unknown): { body: string; headers: Record<string, string> } {
  const text = JSON.stringify(body);
  const signature = createHmac("sha256", WEBHOOK_SECRET).update(text).digest("hex");
  return {
    body: text,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${signature}`,
    },
  };
}
