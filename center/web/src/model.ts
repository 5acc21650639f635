import type { PillarMsgKind } from "../../server/pillar-messages.js";
import type { Key } from "./i18n.js";

/** The shapes the page receives from its console server (already checked against the schemas there). */
export interface Loc {
  lat: number;
  lon: number;
  address: string;
  district: string;
}

export interface BridgeMsg {
  kind: PillarMsgKind;
  pillarId: string;
  command?: string;
  payload: unknown;
  retain: boolean;
  receivedAt: string;
  replay?: boolean;
}

export interface StatusMsg {
  state: "online" | "offline";
  version: string;
  startedAt: string;
  at: string;
  reason?: string;
  location?: Loc;
}

export interface FaultInfo {
  component: string;
  code: string;
  message: string;
  since: string;
}

export interface HealthMsg {
  at: string;
  faults: FaultInfo[];
}

export interface EventMsg {
  eventId: string;
  type: string;
  occurredAt: string;
  clockSynced: boolean;
  location: Loc;
  incidentId?: string;
  data?: Record<string, unknown>;
}

/** A pillar's retained incident state (`pillar/v1/{id}/incident`): what is open there now. */
export interface IncidentStateMsg {
  state: "idle" | "alarm" | "acknowledged";
  incidentId: string | null;
  openedAt: string | null;
  presses: number;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  clockSynced: boolean;
  location: Loc;
  test?: boolean;
  at: string;
}

export interface OfferMsg {
  pillarId: string;
  sessionId: string;
  kind: "alarm" | "lookin";
  incidentId: string | null;
  center: "primary" | "secondary";
  to: string | null;
  sdp: string;
  rejoin?: boolean;
}

export interface SessionMsg {
  pillarId: string;
  sessionId: string;
  kind: "alarm" | "lookin";
  incidentId: string | null;
  state: string;
  officer: string | null;
  reason?: string;
  endsAt?: string;
  graceEndsAt?: string;
  at: string;
}

export interface BusyMsg {
  pillarId: string;
  to: string;
  sessionId: string | null;
  activeOfficer: string | null;
  reason: string;
  message: string;
}

export interface ResultMsg {
  correlationId: string | null;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

/** Issue 11's self-test report (the fields the console shows). */
export interface SelfTestMsg {
  ok: boolean;
  finishedAt: string;
  checks?: { id: string; title?: string; status: string; detail?: string }[];
}

/** A line of a card's timeline, translated when shown. */
export interface Note {
  at: string;
  key: Key;
  args?: Record<string, string | number>;
}

export type PillarState = "online" | "offline" | "alarm" | "fault" | "unknown";

export interface Pillar {
  id: string;
  status?: StatusMsg;
  /** When the pillar's online/offline state last changed (its status's `at`). */
  since?: string;
  location?: Loc;
  lastHeartbeat?: string;
  faults: Map<string, FaultInfo>;
  selftest?: SelfTestMsg;
  selftestAsked?: boolean;
  /** The self-test command was refused (e.g. busy): shown until the next report. */
  selftestProblem?: Note;
  /** The last press the pillar's self-test asked for (a test: no alarm card, no sound). */
  testPress?: string;
  /** The pillar's call session (its retained `webrtc/session`), while one is not ended. */
  session?: SessionMsg;
}

export interface Incident {
  id: string;
  pillarId: string;
  state: "alarm" | "acknowledged";
  pressedAt: string;
  clockSynced: boolean;
  presses: number;
  location: Loc;
  ackedBy?: string;
  timeline: Note[];
  /** The last refusal or problem to show on the card. */
  problem?: Note;
  /** The press moment's JPEG (data: URL), when the pillar sent one. */
  snapshot?: string;
}
