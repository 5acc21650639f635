/**
 * The little a center store needs from a SQL database, so the incident log, the accounts and
 * the sessions are written once and run on SQLite (one console server, embedded) and on
 * PostgreSQL (several console servers sharing one log). SQL is written with `?` placeholders
 * and the portable subset both engines share (TEXT/INTEGER/BIGINT columns, `ON CONFLICT`,
 * `CASE`); times are ISO 8601 UTC strings with milliseconds, which sort as text.
 */
export interface SqlDb {
  readonly dialect: "sqlite" | "postgres";
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Runs a query; resolves to its rows. */
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /**
   * Runs `fn` in one transaction on one connection (committed when it resolves, rolled back
   * when it throws). `lockKey` serializes transactions with the same key across servers
   * (PostgreSQL advisory lock; SQLite has a single writer anyway).
   */
  tx<T>(fn: (db: SqlDb) => Promise<T>, lockKey?: string): Promise<T>;
  close(): Promise<void>;
}

/** A database address: `postgres://…`/`postgresql://…`, else a SQLite file path (`sqlite:` prefix optional). */
export async function openSqlDb(address: string): Promise<SqlDb> {
  if (/^postgres(ql)?:\/\//.test(address)) {
    const { PostgresDb } = await import("./postgres-db.js");
    return PostgresDb.open(address);
  }
  const { SqliteDb } = await import("./sqlite-db.js");
  return SqliteDb.open(address.replace(/^sqlite:/, ""));
}

/** Where the address points, with any password hidden (for logs). */
export function describeAddress(address: string): string {
  return address.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/** The center database when no `--db` is given: env CENTER_DB, else a SQLite file in ./center-data. */
export function defaultDbAddress(): string {
  return process.env.CENTER_DB || "center-data/center.db";
}
