import type { Migration } from "kysely";
import * as m0001 from "./0001-initial.js";
import * as m0002 from "./0002-http-cache.js";
import * as m0003 from "./0003-engine.js";
import * as m0004 from "./0004-attribution.js";
import * as m0005 from "./0005-dashboard.js";
import * as m0006 from "./0006-audit.js";
import * as m0007 from "./0007-verification.js";
import * as m0008 from "./0008-git-attributes.js";
import * as m0009 from "./0009-attribution-findings.js";
import * as m0010 from "./0010-github-id.js";
import * as m0011 from "./0011-suspended.js";

/**
 * Every migration, by name, in order. Adding one is a new `NNNN-name.ts` file and one line here;
 * names sort in the order they run.
 */
export const migrations: Record<string, Migration> = {
  "0001-initial": m0001,
  "0002-http-cache": m0002,
  "0003-engine": m0003,
  "0004-attribution": m0004,
  "0005-dashboard": m0005,
  "0006-audit": m0006,
  "0007-verification": m0007,
  "0008-git-attributes": m0008,
  "0009-attribution-findings": m0009,
  "0010-github-id": m0010,
  "0011-suspended": m0011,
};
