import type { IncidentSummary, Outcome } from "./incident-log.js";

/** A call shorter than this from pickup to end is likely a prank or a silent call. */
export const SHORT_CALL_MS = 5000;

export interface EventRow {
  type: string;
  occurred_at: string;
  pillar_id: string;
  district: string;
  address: string;
  body: string;
}

export interface CallRow {
  session_id: string;
  state: string;
  at: string;
  officer: string | null;
}

const ms = (iso: string) => Date.parse(iso);
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The talk time of every picked-up call, by session: pickup to end (null while it lasts). */
export function talkTimes(
  steps: readonly CallRow[],
): Map<string, { answeredAt: string; by: string | null; talkMs: number | null }> {
  const out = new Map<string, { answeredAt: string; by: string | null; talkMs: number | null }>();
  const sorted = [...steps].sort((a, b) => a.at.localeCompare(b.at));
  for (const s of sorted) {
    const seen = out.get(s.session_id);
    if (s.state === "answered" && !seen) out.set(s.session_id, { answeredAt: s.at, by: s.officer, talkMs: null });
    if (s.state === "ended" && seen && seen.talkMs === null) seen.talkMs = Math.max(0, ms(s.at) - ms(seen.answeredAt));
  }
  return out;
}

/**
 * One incident's summary, recomputed from all its stored events and call steps, so events
 * arriving late, twice or out of order (a pillar's outbox replay) give the same result.
 * Undefined while no event of the incident has arrived (the call may come before the press).
 */
export function summarizeIncident(
  incidentId: string,
  events: readonly EventRow[],
  calls: readonly CallRow[],
): IncidentSummary | undefined {
  const first = events[0];
  if (!first) return undefined;
  const s: IncidentSummary = {
    incidentId,
    pillarId: first.pillar_id,
    district: first.district,
    address: first.address,
    openedAt: null,
    presses: 0,
    acknowledgedAt: null,
    acknowledgedBy: null,
    answeredAt: null,
    answeredBy: null,
    closedAt: null,
    closeReason: null,
    answerMs: null,
    ackMs: null,
    talkMs: null,
    outcome: "unanswered",
    test: false,
  };
  for (const e of events) {
    const data = (JSON.parse(e.body) as { data?: Record<string, unknown> }).data ?? {};
    if (e.type === "button.press") {
      // data.openedAt: the incident's first press, also when that press's event is not here
      const opened = [e.occurred_at, s.openedAt, typeof data.openedAt === "string" ? data.openedAt : null]
        .filter((t): t is string => !!t && ISO_MS.test(t))
        .sort()[0];
      s.openedAt = opened ?? e.occurred_at;
      s.presses = Math.max(s.presses, typeof data.press === "number" ? data.press : 1);
      if (data.test === true) s.test = true;
    } else if (e.type === "incident.acknowledged" && !s.acknowledgedAt) {
      s.acknowledgedAt = e.occurred_at;
      s.acknowledgedBy = typeof data.operator === "string" ? data.operator : null;
    } else if (e.type === "incident.closed" && !s.closedAt) {
      s.closedAt = e.occurred_at;
      s.closeReason = typeof data.reason === "string" ? data.reason : null;
    }
  }
  const firstCall = [...talkTimes(calls).values()].sort((a, b) => a.answeredAt.localeCompare(b.answeredAt))[0];
  if (firstCall) {
    s.answeredAt = firstCall.answeredAt;
    s.answeredBy = firstCall.by;
    s.talkMs = firstCall.talkMs;
  }
  if (s.answeredAt && s.openedAt) s.answerMs = Math.max(0, ms(s.answeredAt) - ms(s.openedAt));
  if (s.acknowledgedAt && s.openedAt) s.ackMs = Math.max(0, ms(s.acknowledgedAt) - ms(s.openedAt));
  s.outcome = outcomeOf(s);
  return s;
}

function outcomeOf(s: IncidentSummary): Outcome {
  if (s.test) return "test";
  if (s.talkMs !== null && s.talkMs < SHORT_CALL_MS) return "short-call";
  if (s.answeredAt) return "answered"; // picked up: an officer spoke to the caller
  return s.closedAt ? "unanswered" : "open"; // an acknowledgement alone is not an answer
}

/** The lower-cased text the history's search box matches. */
export function searchText(s: IncidentSummary): string {
  return [s.incidentId, s.pillarId, s.district, s.address, s.acknowledgedBy, s.answeredBy, s.closeReason]
    .filter(Boolean)
    .join(" ")
    .toLocaleLowerCase();
}
