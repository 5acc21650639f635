import type { PillarEventMessage } from "../../src/events/event-schema.js";
import { buildShiftReport, type ShiftReport } from "../report/shift-report.js";
import type {
  CallStep,
  CommandRecord,
  CommandResultRecord,
  IncidentFilter,
  IncidentLog,
  IncidentSummary,
  TimelineEntry,
} from "./incident-log.js";
import { type CallRow, type EventRow, searchText, summarizeIncident } from "./incident-summary.js";
import { migrate } from "./migrations.js";
import type { SqlDb } from "./sql-db.js";

const INCIDENT_COLUMNS = [
  ["incident_id", "incidentId"],
  ["pillar_id", "pillarId"],
  ["district", "district"],
  ["address", "address"],
  ["opened_at", "openedAt"],
  ["presses", "presses"],
  ["acknowledged_at", "acknowledgedAt"],
  ["acknowledged_by", "acknowledgedBy"],
  ["answered_at", "answeredAt"],
  ["answered_by", "answeredBy"],
  ["closed_at", "closedAt"],
  ["close_reason", "closeReason"],
  ["answer_ms", "answerMs"],
  ["ack_ms", "ackMs"],
  ["talk_ms", "talkMs"],
  ["outcome", "outcome"],
  ["test", "test"],
] as const satisfies readonly (readonly [string, keyof IncidentSummary])[];

const SELECT_INCIDENT = `SELECT ${INCIDENT_COLUMNS.map(([c, k]) => `${c} AS "${k}"`).join(", ")} FROM incidents`;
const UPSERT_INCIDENT =
  `INSERT INTO incidents (${INCIDENT_COLUMNS.map(([c]) => c).join(", ")}, search) ` +
  `VALUES (${INCIDENT_COLUMNS.map(() => "?").join(", ")}, ?) ON CONFLICT (incident_id) DO UPDATE SET ` +
  [...INCIDENT_COLUMNS.slice(1).map(([c]) => c), "search"].map((c) => `${c} = excluded.${c}`).join(", ");

const INSERT_EVENT = `INSERT INTO events (event_id, pillar_id, seq, type, occurred_at, received_at, incident_id, district, address, body)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`;
const INSERT_CALL_STEP = `INSERT INTO call_steps (session_id, state, at, pillar_id, incident_id, kind, officer, reason)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, state, at) DO NOTHING`;
const MARK_DIRTY = "INSERT INTO dirty_incidents (incident_id) VALUES (?) ON CONFLICT (incident_id) DO NOTHING";

/**
 * The incident log on a SQL database (SQLite or PostgreSQL, see `SqlDb`). Raw events, commands
 * and call steps are the record; the `incidents` table is a summary recomputed from them. An
 * append stores the record and marks its incident dirty in one step (on PostgreSQL one
 * statement: one round trip, the console acknowledges each message only after it); the
 * summaries of dirty incidents are recomputed, each under a per-incident lock, before the next
 * read of the summaries (history, report), so a read never sees a stale one.
 */
export class SqlIncidentLog implements IncidentLog {
  private constructor(readonly db: SqlDb) {}

  /** Opens the log on `db`, bringing its schema up to date. */
  static async open(db: SqlDb): Promise<SqlIncidentLog> {
    await migrate(db);
    return new SqlIncidentLog(db);
  }

  async appendEvent(e: PillarEventMessage, receivedAt = new Date().toISOString()): Promise<boolean> {
    return this.insertMarking(INSERT_EVENT, e.incidentId ?? null, [
      e.eventId,
      e.pillarId,
      e.seq,
      e.type,
      e.occurredAt,
      receivedAt,
      e.incidentId ?? null,
      e.location.district,
      e.location.address,
      JSON.stringify(e),
    ]);
  }

  /** Runs an idempotent INSERT and, when it added a row of an incident, marks the incident dirty. */
  private async insertMarking(insert: string, incidentId: string | null, params: unknown[]): Promise<boolean> {
    if (!incidentId) return (await this.db.run(insert, params)) > 0;
    if (this.db.dialect === "postgres") {
      const [row] = await this.db.all<{ n: number }>(
        `WITH ins AS (${insert} RETURNING incident_id),
         mark AS (INSERT INTO dirty_incidents (incident_id) SELECT incident_id FROM ins ON CONFLICT (incident_id) DO NOTHING)
         SELECT COUNT(*) AS n FROM ins`,
        params,
      );
      return Number(row?.n) > 0;
    }
    return this.db.tx(async (t) => {
      const added = await t.run(insert, params);
      if (added) await t.run(MARK_DIRTY, [incidentId]);
      return added > 0;
    });
  }

  /** Recomputes the summaries of the incidents appended to since the last read. */
  private async refreshDirty(): Promise<void> {
    const dirty = await this.db.all<{ incident_id: string }>("SELECT incident_id FROM dirty_incidents");
    for (const { incident_id: id } of dirty)
      await this.db.tx(async (t) => {
        // 0: another console server refreshed it meanwhile
        if (await t.run("DELETE FROM dirty_incidents WHERE incident_id = ?", [id])) await refresh(t, id);
      }, id);
  }

  async appendCommand(c: CommandRecord): Promise<boolean> {
    const added = await this.db.run(
      `INSERT INTO commands (correlation_id, pillar_id, name, incident_id, officer, payload, sent_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (correlation_id) DO NOTHING`,
      [c.correlationId, c.pillarId, c.name, c.incidentId, c.officer, JSON.stringify(c.payload), c.sentAt],
    );
    return added > 0;
  }

  async recordCommandResult(r: CommandResultRecord): Promise<boolean> {
    const n = await this.db.run(
      "UPDATE commands SET result_ok = ?, result_error = ?, result_at = ? WHERE correlation_id = ? AND pillar_id = ? AND name = ? AND result_at IS NULL",
      [r.ok ? 1 : 0, r.error, r.at, r.correlationId, r.pillarId, r.name],
    );
    return n > 0;
  }

  async appendCallStep(s: CallStep): Promise<boolean> {
    return this.insertMarking(INSERT_CALL_STEP, s.incidentId, [
      s.sessionId,
      s.state,
      s.at,
      s.pillarId,
      s.incidentId,
      s.kind,
      s.officer,
      s.reason,
    ]);
  }

  async listIncidents(f: IncidentFilter = {}): Promise<IncidentSummary[]> {
    return this.select(f, Math.min(Math.max(1, Math.trunc(f.limit ?? 200)), 1000));
  }

  async openIncidentEvents(): Promise<PillarEventMessage[]> {
    await this.refreshDirty();
    const rows = await this.db.all<{ body: string }>(
      `SELECT body FROM events WHERE incident_id IN (SELECT incident_id FROM incidents WHERE closed_at IS NULL
        ORDER BY opened_at DESC LIMIT 1000) ORDER BY occurred_at, seq`,
    );
    return rows.map((r) => JSON.parse(r.body) as PillarEventMessage);
  }

  private async select(f: IncidentFilter, limit: number | null): Promise<IncidentSummary[]> {
    await this.refreshDirty();
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, ...values: unknown[]) => (where.push(sql), params.push(...values));
    if (f.incidentId) add("incident_id = ?", f.incidentId);
    if (f.pillarId) add("pillar_id = ?", f.pillarId);
    if (f.district) add("district = ?", f.district);
    if (f.from) add("opened_at >= ?", f.from);
    if (f.to) add("opened_at < ?", f.to);
    if (f.officer) add("(acknowledged_by = ? OR answered_by = ?)", f.officer, f.officer);
    if (f.outcome) add("outcome = ?", f.outcome);
    if (f.text) add("search LIKE ? ESCAPE '\\'", `%${f.text.toLocaleLowerCase().replace(/[\\%_]/g, "\\$&")}%`);
    if (f.closed !== undefined) add(f.closed ? "closed_at IS NOT NULL" : "closed_at IS NULL");
    const rows = await this.db.all<IncidentSummary>(
      `${SELECT_INCIDENT}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY opened_at DESC, incident_id${limit ? ` LIMIT ${limit}` : ""}`,
      params,
    );
    return rows.map(numbers);
  }

  async timeline(incidentId: string): Promise<TimelineEntry[]> {
    const events = await this.db.all<{ type: string; occurred_at: string; body: string }>(
      "SELECT type, occurred_at, body FROM events WHERE incident_id = ?",
      [incidentId],
    );
    const commands = await this.db.all<{
      name: string;
      officer: string | null;
      payload: string;
      sent_at: string;
      result_ok: number | null;
      result_error: string | null;
    }>("SELECT name, officer, payload, sent_at, result_ok, result_error FROM commands WHERE incident_id = ?", [
      incidentId,
    ]);
    const calls = await this.db.all<CallRow & { kind: string; reason: string | null }>(
      "SELECT session_id, state, at, officer, kind, reason FROM call_steps WHERE incident_id = ?",
      [incidentId],
    );
    const out: TimelineEntry[] = [
      ...events.map((e) => {
        const body = JSON.parse(e.body) as PillarEventMessage;
        const data = body.data ?? {};
        const by = typeof data.operator === "string" ? data.operator : null;
        return { at: e.occurred_at, source: "event" as const, what: e.type, by, detail: data };
      }),
      ...commands.map((c) => ({
        at: c.sent_at,
        source: "command" as const,
        what: c.name,
        by: c.officer,
        detail: {
          ...JSON.parse(c.payload),
          result: c.result_ok === null ? null : !!c.result_ok,
          error: c.result_error,
        },
      })),
      ...calls.map((c) => ({
        at: c.at,
        source: "call" as const,
        what: c.state,
        by: c.officer,
        detail: { sessionId: c.session_id, kind: c.kind, reason: c.reason },
      })),
    ];
    return out.sort((a, b) => a.at.localeCompare(b.at));
  }

  async shiftReport(from: string, to: string): Promise<ShiftReport> {
    const incidents = await this.select({ from, to }, null);
    const calls = await this.db.all<CallRow & { pillar_id: string; incident_id: string | null }>(
      `SELECT session_id, state, at, officer, pillar_id, incident_id FROM call_steps WHERE kind = 'alarm' AND session_id IN
        (SELECT session_id FROM call_steps WHERE state = 'answered' AND at >= ? AND at < ?)`,
      [from, to],
    );
    return buildShiftReport(from, to, incidents, calls);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/** Recomputes one incident's summary row from its events and call steps. */
async function refresh(t: SqlDb, incidentId: string): Promise<void> {
  const events = await t.all<EventRow>(
    "SELECT type, occurred_at, pillar_id, district, address, body FROM events WHERE incident_id = ? ORDER BY occurred_at, seq",
    [incidentId],
  );
  const calls = await t.all<CallRow>("SELECT session_id, state, at, officer FROM call_steps WHERE incident_id = ?", [
    incidentId,
  ]);
  const s = summarizeIncident(incidentId, events, calls);
  if (!s) return;
  const values = INCIDENT_COLUMNS.map(([, k]) => (typeof s[k] === "boolean" ? Number(s[k]) : s[k]));
  await t.run(UPSERT_INCIDENT, [...values, searchText(s)]);
}

/** PostgreSQL returns INTEGER as number already; SQLite too — but keep nulls and numbers exact. */
function numbers(r: IncidentSummary): IncidentSummary {
  return {
    ...r,
    presses: Number(r.presses),
    answerMs: r.answerMs === null ? null : Number(r.answerMs),
    ackMs: r.ackMs === null ? null : Number(r.ackMs),
    test: !!Number(r.test),
    talkMs: r.talkMs === null ? null : Number(r.talkMs),
  };
}
