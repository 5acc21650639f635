import type { PillarEventMessage } from "../../src/events/event-schema.js";
import type { ShiftReport } from "../report/shift-report.js";

/**
 * What became of an incident, as a supervisor files it (see docs/center.md "History"): answered
 * means an officer picked up the call (two-way audio), short-call a pickup that lasted under 5 s,
 * unanswered closed with no pickup (acknowledged or not), open not closed and not picked up yet,
 * test opened by a press the pillar's self-test asked for (not an alarm).
 */
export type Outcome = "unanswered" | "answered" | "short-call" | "open" | "test";
export const OUTCOMES: readonly Outcome[] = ["unanswered", "answered", "short-call", "open", "test"];

/** A command the console sent to a pillar (`pillar/v1/{id}/cmd/{name}`), with the officer who sent it. */
export interface CommandRecord {
  correlationId: string;
  pillarId: string;
  name: string;
  incidentId: string | null;
  officer: string | null;
  payload: Record<string, unknown>;
  sentAt: string;
}

/** The pillar's answer to a command (`…/cmd/{name}/result`). */
export interface CommandResultRecord {
  correlationId: string;
  /** The pillar that answered and the command it answered: a result counts only from the pillar the command went to. */
  pillarId: string;
  name: string;
  ok: boolean;
  error: string | null;
  at: string;
}

/** One state of a call, from the pillar's retained `webrtc/session` message. */
export interface CallStep {
  sessionId: string;
  state: string;
  at: string;
  pillarId: string;
  incidentId: string | null;
  kind: string;
  officer: string | null;
  reason: string | null;
}

/** An incident as the history lists it; times are ISO 8601 UTC. */
export interface IncidentSummary {
  incidentId: string;
  pillarId: string;
  district: string;
  address: string;
  openedAt: string | null;
  presses: number;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  /** The first time an officer picked up the incident's call. */
  answeredAt: string | null;
  answeredBy: string | null;
  closedAt: string | null;
  closeReason: string | null;
  /** From the first press to the first pickup (an officer spoke to the caller). */
  answerMs: number | null;
  /** From the first press to the acknowledgement (the center took responsibility). */
  ackMs: number | null;
  /** How long the first picked-up call lasted (pickup to end), once it ended. */
  talkMs: number | null;
  outcome: Outcome;
  /** Opened by a press the pillar's self-test asked for (`data.test`): not an alarm. */
  test: boolean;
}

export interface IncidentFilter {
  incidentId?: string;
  pillarId?: string;
  district?: string;
  /** Opened at or after (ISO 8601). */
  from?: string;
  /** Opened before (ISO 8601). */
  to?: string;
  /** Acknowledged or answered by. */
  officer?: string;
  outcome?: Outcome;
  /** Case-insensitive substring of pillar, district, address, officer, close reason or id. */
  text?: string;
  /** true: closed incidents only; false: open ones only. */
  closed?: boolean;
  /** At most this many, newest first (default 200, at most 1000). */
  limit?: number;
}

export interface TimelineEntry {
  at: string;
  source: "event" | "command" | "call";
  /** Event type, command name or call state. */
  what: string;
  /** The officer, when one acted. */
  by: string | null;
  detail: Record<string, unknown>;
}

/**
 * The center's incident log: everything the console servers see or send, kept so the history,
 * the shift report and a restarted console lose nothing. Appends are idempotent: events are
 * de-duplicated on `eventId` (pillars deliver at least once), commands on `correlationId`,
 * call steps on (session, state, time). Each append resolves to true when it stored something new.
 */
export interface IncidentLog {
  appendEvent(e: PillarEventMessage, receivedAt?: string): Promise<boolean>;
  appendCommand(c: CommandRecord): Promise<boolean>;
  /** Stores a result when a command of this id, name and pillar was sent and has none yet. */
  recordCommandResult(r: CommandResultRecord): Promise<boolean>;
  appendCallStep(s: CallStep): Promise<boolean>;
  listIncidents(filter?: IncidentFilter): Promise<IncidentSummary[]>;
  /** The stored events of the incidents not closed (at most 1000 incidents, the newest), oldest first. */
  openIncidentEvents(): Promise<PillarEventMessage[]>;
  /** Events, commands and call steps of one incident, oldest first. */
  timeline(incidentId: string): Promise<TimelineEntry[]>;
  /** The supervisor's figures for incidents opened in [from, to). */
  shiftReport(from: string, to: string): Promise<ShiftReport>;
  close(): Promise<void>;
}
