import type { Kysely } from "kysely";

/**
 * When the repository's GitHub App installation was suspended (ISO time), null while it is not. Set
 * on every row of the installation by `installation.suspend` (or a token request GitHub refused as
 * suspended), cleared by `installation.unsuspend`: while set, no scan, dashboard sync, autopilot
 * slot, task run or follow-up of the repository asks GitHub for anything, since GitHub mints no
 * installation token for a suspended installation
 * (https://docs.github.com/en/apps/maintaining-github-apps/suspending-a-github-app-installation).
 * A column rather than an `installations` table: the installation's repositories are the rows the
 * scheduler and executor already read, and nothing else is known of an installation.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("repositories").addColumn("suspended_at", "text").execute();
}

/** Drops the column. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("repositories").dropColumn("suspended_at").execute();
}
