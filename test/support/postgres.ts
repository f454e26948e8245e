import { randomBytes } from "node:crypto";
import pg from "pg";

/** The PostgreSQL server of the test run (`DATABASE_URL_TEST`), or undefined when only SQLite is tested. Free of vitest, so benchmarks can use it. */
export const postgresTestUrl: string | undefined = process.env.DATABASE_URL_TEST || undefined;

/**
 * Creates an empty PostgreSQL database on the test server and returns its URL and how to drop it
 * (`with (force)` ends connections a test left open).
 * @throws when `DATABASE_URL_TEST` is unset or the server refuses.
 */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const server = process.env.DATABASE_URL_TEST || postgresTestUrl;
  if (!server) throw new Error("DATABASE_URL_TEST is not set");
  const name = `bb_test_${randomBytes(6).toString("hex")}`;
  await admin(server, `create database ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => admin(server, `drop database if exists ${name} with (force)`) };
}

async function admin(server: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
