import { randomBytes } from "node:crypto";
import type { SqlDb } from "./sql-db.js";

/**
 * The center database's schema, one step per version, recorded in `schema_version`. Steps are
 * only ever appended (a released step never changes), in SQL both SQLite and PostgreSQL run.
 */
export const MIGRATIONS: readonly (readonly string[])[] = [
  // 1: the incident log, accounts and sessions.
  [
    `CREATE TABLE events (
      event_id TEXT PRIMARY KEY, pillar_id TEXT NOT NULL, seq BIGINT NOT NULL, type TEXT NOT NULL,
      occurred_at TEXT NOT NULL, received_at TEXT NOT NULL, incident_id TEXT,
      district TEXT NOT NULL, address TEXT NOT NULL, body TEXT NOT NULL)`,
    "CREATE INDEX events_incident ON events (incident_id)",
    "CREATE INDEX events_pillar_time ON events (pillar_id, occurred_at)",
    `CREATE TABLE commands (
      correlation_id TEXT PRIMARY KEY, pillar_id TEXT NOT NULL, name TEXT NOT NULL, incident_id TEXT,
      officer TEXT, payload TEXT NOT NULL, sent_at TEXT NOT NULL,
      result_ok INTEGER, result_error TEXT, result_at TEXT)`,
    "CREATE INDEX commands_incident ON commands (incident_id)",
    `CREATE TABLE call_steps (
      session_id TEXT NOT NULL, state TEXT NOT NULL, at TEXT NOT NULL, pillar_id TEXT NOT NULL,
      incident_id TEXT, kind TEXT NOT NULL, officer TEXT, reason TEXT,
      PRIMARY KEY (session_id, state, at))`,
    "CREATE INDEX call_steps_incident ON call_steps (incident_id)",
    `CREATE TABLE incidents (
      incident_id TEXT PRIMARY KEY, pillar_id TEXT NOT NULL, district TEXT NOT NULL, address TEXT NOT NULL,
      opened_at TEXT, presses INTEGER NOT NULL, acknowledged_at TEXT, acknowledged_by TEXT,
      answered_at TEXT, answered_by TEXT, closed_at TEXT, close_reason TEXT, answer_ms INTEGER,
      talk_ms INTEGER, outcome TEXT NOT NULL, search TEXT NOT NULL)`,
    "CREATE INDEX incidents_opened ON incidents (opened_at)",
    "CREATE INDEX incidents_pillar ON incidents (pillar_id, opened_at)",
    `CREATE TABLE users (
      name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
    `CREATE TABLE sessions (
      token_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
      created_at TEXT NOT NULL, expires_at TEXT NOT NULL)`,
  ],
  // 2: the incidents' clips as the pillars listed them (clips.list), and their uploads.
  [
    `CREATE TABLE clips (
      clip_id TEXT PRIMARY KEY, pillar_id TEXT NOT NULL, incident_id TEXT, file TEXT NOT NULL,
      start_at TEXT NOT NULL, end_at TEXT, bytes BIGINT NOT NULL, sha256 TEXT, state TEXT NOT NULL,
      listed_at TEXT NOT NULL, upload_url TEXT, upload_requested_at TEXT, uploaded_at TEXT, upload_error TEXT)`,
    "CREATE INDEX clips_incident ON clips (incident_id)",
  ],
  // 3: incidents whose summary row is behind their events (refreshed before the next read).
  ["CREATE TABLE dirty_incidents (incident_id TEXT PRIMARY KEY)"],
  // 4: answered (picked up) apart from acknowledged; test presses. Every summary is recomputed.
  [
    "ALTER TABLE incidents ADD COLUMN ack_ms INTEGER",
    "ALTER TABLE incidents ADD COLUMN test INTEGER NOT NULL DEFAULT 0",
    "INSERT INTO dirty_incidents (incident_id) SELECT incident_id FROM incidents WHERE true ON CONFLICT (incident_id) DO NOTHING",
  ],
  // 5: the center's secrets (the key of the officers' call tokens), shared by its servers.
  ["CREATE TABLE center_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)"],
];

/** The center's secret `name`, made (random, 256 bits) by the first server that asks. */
export async function centerSecret(db: SqlDb, name: string): Promise<string> {
  const fresh = randomBytes(32).toString("hex");
  await db.run("INSERT INTO center_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [name, fresh]);
  const [row] = await db.all<{ value: string }>("SELECT value FROM center_secrets WHERE name = ?", [name]);
  return row!.value;
}

/** Brings the database to the latest schema version; safe when several servers start at once. */
export async function migrate(db: SqlDb): Promise<number> {
  return db.tx(async (t) => {
    await t.run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    const [row] = await t.all<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_version");
    const current = Number(row?.v ?? 0);
    if (current > MIGRATIONS.length)
      throw new Error(`the database has schema version ${current}, newer than this program's ${MIGRATIONS.length}`);
    for (let v = current + 1; v <= MIGRATIONS.length; v++) {
      for (const sql of MIGRATIONS[v - 1]!) await t.run(sql);
      await t.run("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", [v, new Date().toISOString()]);
    }
    return MIGRATIONS.length;
  }, "center-schema");
}
