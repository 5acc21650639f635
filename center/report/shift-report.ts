import type { IncidentSummary } from "../log/incident-log.js";
import { type CallRow, SHORT_CALL_MS, talkTimes } from "../log/incident-summary.js";

export interface ShiftReport {
  from: string;
  to: string;
  /** Incidents opened in the shift (test presses not counted). */
  alarms: number;
  /** Incidents the center acknowledged (took responsibility for). */
  acknowledged: number;
  /** Incidents whose call an officer picked up (two-way audio): answered. */
  answered: number;
  /** Acknowledged but nobody spoke to the caller. */
  acknowledgedOnly: number;
  /** Not closed yet (and not picked up). */
  open: number;
  /** Incidents opened by a press the pillar's self-test asked for: kept out of every other figure. */
  tests: number;
  /** Button presses in those incidents (repeat presses join one incident). */
  presses: number;
  perPillar: { pillarId: string; district: string; alarms: number; unanswered: number; shortCalls: number }[];
  perDistrict: { district: string; alarms: number; unanswered: number }[];
  /** From the first press to the pickup, over answered incidents. */
  timeToAnswer: { answered: number; medianMs: number | null; worstMs: number | null };
  /** From the first press to the acknowledgement, over acknowledged incidents. */
  timeToAcknowledge: { acknowledged: number; medianMs: number | null; worstMs: number | null };
  /** Incidents closed with nobody having picked up their call (acknowledged or not). */
  unanswered: number;
  /** Alarm calls picked up in the shift that ended less than `thresholdMs` later: likely pranks. */
  shortCalls: {
    count: number;
    thresholdMs: number;
    calls: { sessionId: string; pillarId: string; incidentId: string | null; officer: string | null; talkMs: number }[];
  };
}

/** The middle value (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : Math.round((v[mid - 1]! + v[mid]!) / 2);
}

/**
 * The supervisor's shift report from the incidents opened in [from, to) and the steps of the
 * alarm calls picked up in it. Pure: the log fetches the rows, this counts. Incidents of test
 * presses (and their calls) count only as `tests`.
 */
export function buildShiftReport(
  from: string,
  to: string,
  all: readonly IncidentSummary[],
  allSteps: readonly (CallRow & { pillar_id: string; incident_id: string | null })[],
): ShiftReport {
  const incidents = all.filter((i) => !i.test);
  const testIds = new Set(all.filter((i) => i.test).map((i) => i.incidentId));
  const callSteps = allSteps.filter((c) => !c.incident_id || !testIds.has(c.incident_id));
  const pillars = new Map<string, ShiftReport["perPillar"][number]>();
  const districts = new Map<string, ShiftReport["perDistrict"][number]>();
  const pillarOf = (pillarId: string, district: string) => {
    let p = pillars.get(pillarId);
    if (!p) pillars.set(pillarId, (p = { pillarId, district, alarms: 0, unanswered: 0, shortCalls: 0 }));
    return p;
  };
  for (const i of incidents) {
    const p = pillarOf(i.pillarId, i.district);
    let d = districts.get(i.district);
    if (!d) districts.set(i.district, (d = { district: i.district, alarms: 0, unanswered: 0 }));
    p.alarms++;
    d.alarms++;
    if (i.outcome === "unanswered") p.unanswered++, d.unanswered++;
  }
  const sessionInfo = new Map(callSteps.map((c) => [c.session_id, c]));
  const shortCalls: ShiftReport["shortCalls"]["calls"] = [];
  for (const [sessionId, t] of talkTimes(callSteps)) {
    if (t.talkMs === null || t.talkMs >= SHORT_CALL_MS || t.answeredAt < from || t.answeredAt >= to) continue;
    const info = sessionInfo.get(sessionId)!;
    shortCalls.push({
      sessionId,
      pillarId: info.pillar_id,
      incidentId: info.incident_id,
      officer: t.by,
      talkMs: t.talkMs,
    });
    const district = incidents.find((i) => i.pillarId === info.pillar_id)?.district ?? "";
    pillarOf(info.pillar_id, district).shortCalls++;
  }
  const answerTimes = incidents.map((i) => i.answerMs).filter((x): x is number => x !== null);
  const ackTimes = incidents.map((i) => i.ackMs).filter((x): x is number => x !== null);
  const figures = (v: number[]) => ({ medianMs: median(v), worstMs: v.length ? Math.max(...v) : null });
  const byCount = <T extends { alarms: number }>(a: T, b: T, ka: string, kb: string) =>
    b.alarms - a.alarms || ka.localeCompare(kb);
  return {
    from,
    to,
    alarms: incidents.length,
    acknowledged: incidents.filter((i) => i.acknowledgedAt).length,
    answered: incidents.filter((i) => i.answeredAt).length,
    acknowledgedOnly: incidents.filter((i) => i.acknowledgedAt && !i.answeredAt).length,
    open: incidents.filter((i) => i.outcome === "open").length,
    tests: testIds.size,
    presses: incidents.reduce((n, i) => n + i.presses, 0),
    perPillar: [...pillars.values()].sort((a, b) => byCount(a, b, a.pillarId, b.pillarId)),
    perDistrict: [...districts.values()].sort((a, b) => byCount(a, b, a.district, b.district)),
    timeToAnswer: { answered: answerTimes.length, ...figures(answerTimes) },
    timeToAcknowledge: { acknowledged: ackTimes.length, ...figures(ackTimes) },
    unanswered: incidents.filter((i) => i.outcome === "unanswered").length,
    shortCalls: {
      count: shortCalls.length,
      thresholdMs: SHORT_CALL_MS,
      calls: shortCalls.sort((a, b) => a.talkMs - b.talkMs),
    },
  };
}
