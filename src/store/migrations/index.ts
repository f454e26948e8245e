import type { Migration } from "kysely";
import * as m0001 from "./0001-initial.js";

/**
 * Every migration, by name, in order. Adding one is a new `NNNN-name.ts` file and one line here;
 * names sort in the order they run.
 */
export const migrations: Record<string, Migration> = {
  "0001-initial": m0001,
};
