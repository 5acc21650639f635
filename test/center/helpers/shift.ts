import type { PillarEventMessage } from "../../../src/events/event-schema.js";
import { uuidv7 } from "../../../src/util/uuid-v7.js";
import type { CallStep, CommandRecord, IncidentLog } from "../../../center/log/incident-log.js";

export interface SimPillarSite {
  id: string;
  district: string;
  address: string;
}

export interface SimAlarm {
  pillar: SimPillarSite;
  /** The first press, ISO 8601. */
  at: string;
  presses?: number;
  ack?: { afterMs: number; by: string };
  call?: { answerAfterMs: number; talkMs: number; by: string };
  /** Closed (by the center after its acknowledgement, or by the self-test for a test press). */
  closeAfterMs?: number;
  /** A press the pillar's self-test asked for (`data.test`). */
  test?: boolean;
}

/** Everything the center would receive for one simulated alarm, in arrival order. */
export interface SimIncident {
  incidentId: string;
  events: PillarEventMessage[];
  calls: CallStep[];
  commands: CommandRecord[];
}

const seqs = new Map<string, number>();
const iso = (ms: number) => new Date(ms).toISOString();

/** A pillar event as the pillar would publish it. */
export function simEvent(
  site: SimPillarSite,
  type: string,
  atMs: number,
  incidentId: string | undefined,
  data: Record<string, unknown> = {},
): PillarEventMessage {
  const seq = (seqs.get(site.id) ?? 0) + 1;
  seqs.set(site.id, seq);
  return {
    eventId: uuidv7(atMs),
    pillarId: site.id,
    seq,
    type,
    occurredAt: iso(atMs),
    clockSynced: true,
    location: { lat: 43.238949, lon: 76.889709, address: site.address, district: site.district },
    ...(incidentId ? { incidentId } : {}),
    data,
  };
}

/** One alarm's events, call steps and the console's commands, as a shift would produce them. */
export function simIncident(a: SimAlarm): SimIncident {
  const t0 = Date.parse(a.at);
  const incidentId = uuidv7(t0);
  const p = a.pillar;
  const events: PillarEventMessage[] = [];
  const calls: CallStep[] = [];
  const commands: CommandRecord[] = [];
  for (let n = 1; n <= (a.presses ?? 1); n++)
    events.push(
      simEvent(p, "button.press", t0 + (n - 1) * 2000, incidentId, {
        press: n,
        incidentState: "alarm",
        openedAt: iso(t0),
        ...(a.test ? { test: true } : {}),
      }),
    );
  const sessionId = `s-${incidentId}`;
  const step = (state: string, atMs: number, officer: string | null, reason: string | null = null) =>
    calls.push({ sessionId, state, at: iso(atMs), pillarId: p.id, incidentId, kind: "alarm", officer, reason });
  if (!a.test) step("offered", t0 + 50, null); // a test press calls nobody
  if (!a.test) step("connected", t0 + 900, null);
  if (a.call) {
    const picked = t0 + a.call.answerAfterMs;
    step("answered", picked, a.call.by);
    step("ended", picked + a.call.talkMs, a.call.by, "hangup");
  }
  if (a.ack) {
    const at = t0 + a.ack.afterMs;
    const correlationId = `ack-${incidentId}`;
    const payload = { correlationId, incidentId, operator: a.ack.by };
    commands.push({
      correlationId,
      pillarId: p.id,
      name: "incident.ack",
      incidentId,
      officer: a.ack.by,
      payload,
      sentAt: iso(at - 30),
    });
    events.push(simEvent(p, "incident.acknowledged", at, incidentId, { operator: a.ack.by }));
  }
  if (a.closeAfterMs !== undefined)
    events.push(
      simEvent(p, "incident.closed", t0 + a.closeAfterMs, incidentId, {
        reason: a.test ? "self-test press" : "closed by the center",
        presses: a.presses ?? 1,
        durationMs: a.closeAfterMs,
        ...(a.test ? { test: true } : {}),
      }),
    );
  return { incidentId, events, calls, commands };
}

/** Feeds a simulated incident into a log as the console server would. */
export async function feed(log: IncidentLog, i: SimIncident): Promise<void> {
  for (const c of i.commands) await log.appendCommand(c);
  for (const e of i.events) await log.appendEvent(e);
  for (const s of i.calls) await log.appendCallStep(s);
}

export const SITES = {
  med1: { id: "alm-med-001", district: "Medeu", address: "Panfilov Park, north gate" },
  med2: { id: "alm-med-002", district: "Medeu", address: "Медеу, остановка Шымбулак" },
  alm1: { id: "alm-alm-001", district: "Almaly", address: "Проспект Абая 52, Zhibek Zholy metro" },
  bos1: { id: "alm-bos-001", district: "Bostandyk", address: "Al-Farabi Ave 77, KBTU" },
} satisfies Record<string, SimPillarSite>;

/**
 * A 12-hour day shift (08:00–20:00 UTC) with answered, acknowledged-only (unanswered), still
 * open and short (prank) calls and two self-test presses;
 * the figures it must give are worked out by hand in center-log.test.ts.
 */
export function simulatedShift(day = "2026-11-25"): { from: string; to: string; incidents: SimIncident[] } {
  const t = (hms: string) => `${day}T${hms}.000Z`;
  const s = SITES;
  const alarms: SimAlarm[] = [
    // Before the shift: not counted.
    { pillar: s.med1, at: t("07:59:59"), ack: { afterMs: 3000, by: "aigerim" }, closeAfterMs: 60_000 },
    {
      pillar: s.med1,
      at: t("08:10:00"),
      presses: 2,
      ack: { afterMs: 20_000, by: "aigerim" },
      call: { answerAfterMs: 15_000, talkMs: 120_000, by: "aigerim" },
      closeAfterMs: 300_000,
    },
    {
      pillar: s.med1,
      at: t("09:00:00"),
      ack: { afterMs: 10_000, by: "bolat" },
      call: { answerAfterMs: 8000, talkMs: 3000, by: "bolat" },
      closeAfterMs: 20_000,
    },
    { pillar: s.med1, at: t("11:30:00") },
    { pillar: s.alm1, at: t("12:00:00"), presses: 3, ack: { afterMs: 45_000, by: "aigerim" }, closeAfterMs: 600_000 },
    {
      pillar: s.bos1,
      at: t("14:00:00"),
      ack: { afterMs: 31_000, by: "bolat" },
      call: { answerAfterMs: 30_000, talkMs: 4999, by: "bolat" },
      closeAfterMs: 40_000,
    },
    {
      pillar: s.med2,
      at: t("16:00:00"),
      ack: { afterMs: 60_000, by: "aigerim" },
      call: { answerAfterMs: 62_000, talkMs: 5000, by: "aigerim" },
      closeAfterMs: 120_000,
    },
    // Acknowledged, the call offered but nobody spoke to the caller, closed: unanswered.
    { pillar: s.bos1, at: t("15:00:00"), ack: { afterMs: 90_000, by: "bolat" }, closeAfterMs: 100_000 },
    // The installer's self-test presses: tests, in no alarm figure.
    { pillar: s.med2, at: t("10:00:00"), test: true, closeAfterMs: 5000 },
    { pillar: s.med2, at: t("17:00:00"), presses: 2, test: true, closeAfterMs: 8000 },
    { pillar: s.alm1, at: t("19:59:00") },
    // The next shift's: not counted.
    { pillar: s.bos1, at: t("20:00:00") },
  ];
  return { from: t("08:00:00"), to: t("20:00:00"), incidents: alarms.map(simIncident) };
}
