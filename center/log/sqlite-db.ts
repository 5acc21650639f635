import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { SqlDb } from "./sql-db.js";

/**
 * SQLite through better-sqlite3 (synchronous, in-process): WAL journal so readers never block
 * the writer, `synchronous=NORMAL` (in WAL mode a commit survives a process crash; a power cut
 * may lose the last commits but never corrupts the file), a busy timeout for the CLI writing
 * users while a console server runs. The file holds password hashes and the incident log: a new
 * file is created owner-only (0600) in a folder created owner-only (0700); SQLite gives its
 * `-wal` and `-shm` files the main file's mode.
 */
export class SqliteDb implements SqlDb {
  readonly dialect = "sqlite" as const;
  /** Transactions run one after another (their statements are awaited, so they could interleave). */
  private queue: Promise<unknown> = Promise.resolve();
  /** Compiled statements by SQL text (the store's statements are a small fixed set, plus filter combinations). */
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(private readonly db: Database.Database) {}

  static open(path: string): SqliteDb {
    if (path !== ":memory:") createOwnerOnly(path);
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
    db.pragma("foreign_keys = ON");
    return new SqliteDb(db);
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.statement(sql).run(...params.map(bind)).changes;
  }

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.statement(sql).all(...params.map(bind)) as T[];
  }

  private statement(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      if (this.statements.size >= 500) this.statements.clear();
      this.statements.set(sql, (st = this.db.prepare(sql)));
    }
    return st;
  }

  /** Not re-entrant: `fn` must not call `tx` again. */
  tx<T>(fn: (db: SqlDb) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const out = await fn(this);
        this.db.exec("COMMIT");
        return out;
      } catch (err) {
        this.db.exec("ROLLBACK");
        throw err;
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** Creates the database's folder (0700) and file (0600) when missing; an existing one keeps its modes. */
function createOwnerOnly(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (existsSync(path)) return;
  try {
    closeSync(openSync(path, "wx", 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err; // created meanwhile: fine
  }
}

/** better-sqlite3 binds no booleans: store them as 0/1 like PostgreSQL's integer columns here. */
function bind(v: unknown): unknown {
  return typeof v === "boolean" ? (v ? 1 : 0) : v;
}
