import type { SqlDb } from "./sql-db.js";

/** What a pillar says of a clip (an entry of its `clips.list` result, docs/recording.md). */
interface ClipFields {
  incidentId: string | null;
  /** The file in the pillar's `<dataDir>/recordings/`. */
  file: string;
  start: string;
  end: string | null;
  bytes: number;
  sha256: string | null;
  /** The pillar's state of it: recording, complete, repaired. */
  state: string;
}

/** One entry of a `clips.list` result. */
export interface ListedClip extends ClipFields {
  id: string;
}

/** A pillar's clip as the center knows it: from the pillar's `clips.list`, and its upload. */
export interface ClipRecord extends ClipFields {
  clipId: string;
  pillarId: string;
  listedAt: string;
  /** Where the center asked the pillar to upload it (clips.upload), once asked. */
  uploadUrl: string | null;
  uploadRequestedAt: string | null;
  /** When the pillar reported the upload done (the file is at uploadUrl). */
  uploadedAt: string | null;
  uploadError: string | null;
}

const COLUMNS = [
  ["clip_id", "clipId"],
  ["pillar_id", "pillarId"],
  ["incident_id", "incidentId"],
  ["file", "file"],
  ["start_at", "start"],
  ["end_at", "end"],
  ["bytes", "bytes"],
  ["sha256", "sha256"],
  ["state", "state"],
  ["listed_at", "listedAt"],
  ["upload_url", "uploadUrl"],
  ["upload_requested_at", "uploadRequestedAt"],
  ["uploaded_at", "uploadedAt"],
  ["upload_error", "uploadError"],
] as const satisfies readonly (readonly [string, keyof ClipRecord])[];
const SELECT = `SELECT ${COLUMNS.map(([c, k]) => `${c} AS "${k}"`).join(", ")} FROM clips`;

/** The clips table of the center database (migration 2): what the pillars listed and what was uploaded. */
export class ClipLog {
  constructor(private readonly db: SqlDb) {}

  /** Stores what a pillar listed; a clip listed again gets its newer end, size, hash and state. */
  /** True when the center sent `name` with this correlation id to this pillar (its answer was asked for). */
  async asked(correlationId: string, pillarId: string, name: string): Promise<boolean> {
    const rows = await this.db.all<{ n: number }>(
      "SELECT 1 AS n FROM commands WHERE correlation_id = ? AND pillar_id = ? AND name = ?",
      [correlationId, pillarId, name],
    );
    return rows.length > 0;
  }

  async listed(pillarId: string, clips: readonly ListedClip[], at: string): Promise<void> {
    for (const c of clips)
      await this.db.run(
        `INSERT INTO clips (clip_id, pillar_id, incident_id, file, start_at, end_at, bytes, sha256, state, listed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (clip_id) DO UPDATE SET end_at = excluded.end_at,
         bytes = excluded.bytes, sha256 = excluded.sha256, state = excluded.state, listed_at = excluded.listed_at`,
        [c.id, pillarId, c.incidentId, c.file, c.start, c.end, c.bytes, c.sha256, c.state, at],
      );
  }

  /** The center asked the pillar to upload the clip to `url`. */
  async uploadRequested(clipId: string, url: string, at: string): Promise<void> {
    await this.db.run(
      "UPDATE clips SET upload_url = ?, upload_requested_at = ?, uploaded_at = NULL, upload_error = NULL WHERE clip_id = ?",
      [url, at, clipId],
    );
  }

  /** The pillar's answer to clips.upload: done (error null) or failed. */
  async uploadAnswered(clipId: string, error: string | null, at: string): Promise<void> {
    await this.db.run("UPDATE clips SET uploaded_at = ?, upload_error = ? WHERE clip_id = ?", [
      error ? null : at,
      error,
      clipId,
    ]);
  }

  async ofIncident(incidentId: string): Promise<ClipRecord[]> {
    const rows = await this.db.all<ClipRecord>(`${SELECT} WHERE incident_id = ? ORDER BY start_at`, [incidentId]);
    return rows.map((r) => ({ ...r, bytes: Number(r.bytes) }));
  }

  async get(clipId: string): Promise<ClipRecord | null> {
    const [row] = await this.db.all<ClipRecord>(`${SELECT} WHERE clip_id = ?`, [clipId]);
    return row ? { ...row, bytes: Number(row.bytes) } : null;
  }
}
