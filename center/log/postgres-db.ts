import pg from "pg";
import type { SqlDb } from "./sql-db.js";

/** `?` placeholders → PostgreSQL's `$1, $2…` (the store's SQL has no `?` inside string literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

class PgClientDb implements SqlDb {
  readonly dialect = "postgres" as const;
  constructor(private readonly q: pg.Pool | pg.PoolClient) {}

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.q.query(numbered(sql), params as unknown[])).rowCount ?? 0;
  }

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.q.query(numbered(sql), params as unknown[])).rows as T[];
  }

  tx<T>(_fn: (db: SqlDb) => Promise<T>, _lockKey?: string): Promise<T> {
    throw new Error("nested transactions are not supported");
  }

  async close(): Promise<void> {}
}

/**
 * PostgreSQL through a `pg` pool, for a center running several console servers on one log.
 * BIGINT and COUNT come back as JS numbers (our values stay far below 2^53).
 */
export class PostgresDb extends PgClientDb {
  private constructor(private readonly pool: pg.Pool) {
    super(pool);
  }

  static open(url: string): PostgresDb {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    pool.on("error", () => undefined); // an idle client's lost connection: the next query reconnects
    return new PostgresDb(pool);
  }

  override async tx<T>(fn: (db: SqlDb) => Promise<T>, lockKey?: string): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      if (lockKey !== undefined) await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [lockKey]);
      const out = await fn(new PgClientDb(client));
      await client.query("COMMIT");
      return out;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  override async close(): Promise<void> {
    await this.pool.end();
  }
}

// COUNT(*) and BIGINT columns: numbers, not strings.
pg.types.setTypeParser(20, (v) => Number(v));
