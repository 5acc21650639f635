import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { promisify } from "node:util";
import pg from "pg";
import { waitFor } from "./wait.js";

const HOST = "127.0.0.1";
const PORT = 5432;
const ADMIN_URL = `postgres://postgres@${HOST}:${PORT}/postgres`;

async function reachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * The machine's PostgreSQL (trust auth on loopback, as Debian sets it up for the tests): found
 * running, or started once the way Debian does without systemd (`pg_ctlcluster … start`).
 */
async function ensureServer(): Promise<void> {
  if (await reachable()) return;
  const versions = (await readdir("/etc/postgresql").catch(() => [])).sort();
  const version = versions.at(-1);
  if (!version) throw new Error("PostgreSQL is not installed (scripts/ensure-deps.sh installs it)");
  await promisify(execFile)("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "start"]).catch(
    (err: Error) => {
      // Already started by someone else meanwhile: fine if it answers below.
      if (!/already running/i.test(err.message)) throw err;
    },
  );
  await waitFor(reachable, `PostgreSQL answering on ${HOST}:${PORT}`, 30_000, 200);
}

/** A database of its own on the machine's PostgreSQL, dropped by `drop()`. */
export class TestPostgresDatabase {
  readonly name = `center_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

  get url(): string {
    return `postgres://postgres@${HOST}:${PORT}/${this.name}`;
  }

  async create(): Promise<this> {
    await ensureServer();
    await this.admin(`CREATE DATABASE ${this.name}`);
    return this;
  }

  async drop(): Promise<void> {
    await this.admin(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
  }

  private async admin(sql: string): Promise<void> {
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  }
}
