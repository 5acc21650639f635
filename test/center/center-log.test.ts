import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IncidentLog } from "../../center/log/incident-log.js";
import { MIGRATIONS } from "../../center/log/migrations.js";
import { openSqlDb, type SqlDb } from "../../center/log/sql-db.js";
import { SqlIncidentLog } from "../../center/log/sql-incident-log.js";
import { TestPostgresDatabase } from "../support/postgres.js";
import { SITES, feed, simEvent, simIncident, simulatedShift } from "./helpers/shift.js";

/** One database per engine, created for this run and removed after it. */
interface Engine {
  name: string;
  setup(): Promise<string>;
  teardown(): Promise<void>;
}

const engines: Engine[] = [
  (() => {
    let dir = "";
    return {
      name: "SQLite",
      async setup() {
        dir = await mkdtemp(join(tmpdir(), "center-log-"));
        return join(dir, "center.db");
      },
      teardown: () => rm(dir, { recursive: true, force: true }),
    };
  })(),
  (() => {
    const db = new TestPostgresDatabase();
    return {
      name: "PostgreSQL",
      setup: async () => (await db.create()).url,
      teardown: () => db.drop(),
    };
  })(),
];

describe.each(engines)("incident log on $name", (engine) => {
  let address = "";
  let log: SqlIncidentLog;
  const reopen = async () => {
    await log?.close();
    log = await SqlIncidentLog.open(await openSqlDb(address));
    return log;
  };

  beforeAll(async () => {
    address = await engine.setup();
    await reopen();
  });
  afterAll(async () => {
    await log?.close();
    await engine.teardown();
  });

  it("migrates to the latest schema version once, and re-opening applies nothing twice", async () => {
    await reopen();
    const rows = await log.db.all<{ version: number }>("SELECT version FROM schema_version ORDER BY version");
    expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it("stores an event once however often the pillar re-sends it, also when the copies race", async () => {
    const e = simEvent(SITES.bos1, "tamper.open", Date.parse("2026-11-24T10:00:00.000Z"), undefined);
    expect(await log.appendEvent(e)).toBe(true);
    expect(await log.appendEvent(e)).toBe(false);
    const raced = await Promise.all(Array.from({ length: 6 }, () => log.appendEvent({ ...e })));
    expect(raced.filter(Boolean)).toHaveLength(0);
    const twin = simEvent(SITES.bos1, "tamper.closed", Date.parse("2026-11-24T10:00:01.000Z"), undefined);
    const first = await Promise.all(Array.from({ length: 6 }, () => log.appendEvent({ ...twin })));
    expect(first.filter(Boolean)).toHaveLength(1);
    const n = await log.db.all<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE pillar_id = ?", [SITES.bos1.id]);
    expect(Number(n[0]!.n)).toBe(2);
  });

  it("builds the same incident whatever order and however often its messages arrive", async () => {
    const i = simIncident({
      pillar: SITES.alm1,
      at: "2026-11-24T11:00:00.000Z",
      presses: 2,
      ack: { afterMs: 9000, by: "dana" },
      call: { answerAfterMs: 7000, talkMs: 60_000, by: "dana" },
      closeAfterMs: 90_000,
    });
    // Backwards, then everything again (an outbox replay after a lost PUBACK).
    for (const e of [...i.events].reverse()) await log.appendEvent(e);
    for (const s of [...i.calls].reverse()) await log.appendCallStep(s);
    await feed(log, i);
    const [s] = await log.listIncidents({ text: i.incidentId });
    expect(s).toEqual({
      incidentId: i.incidentId,
      pillarId: SITES.alm1.id,
      district: "Almaly",
      address: SITES.alm1.address,
      openedAt: "2026-11-24T11:00:00.000Z",
      presses: 2,
      acknowledgedAt: "2026-11-24T11:00:09.000Z",
      acknowledgedBy: "dana",
      answeredAt: "2026-11-24T11:00:07.000Z",
      answeredBy: "dana",
      closedAt: "2026-11-24T11:01:30.000Z",
      closeReason: "closed by the center",
      answerMs: 7000,
      ackMs: 9000,
      talkMs: 60_000,
      outcome: "answered",
      test: false,
    });
    const timeline = await log.timeline(i.incidentId);
    expect(timeline.map((t) => `${t.source}:${t.what}`)).toEqual([
      "event:button.press",
      "call:offered",
      "call:connected",
      "event:button.press",
      "call:answered",
      "command:incident.ack",
      "event:incident.acknowledged",
      "call:ended",
      "event:incident.closed",
    ]);
    expect(timeline.find((t) => t.what === "incident.acknowledged")?.by).toBe("dana");
  });

  it("keeps the commands sent with their officer and the pillar's result", async () => {
    const i = simIncident({ pillar: SITES.med2, at: "2026-11-24T12:00:00.000Z", ack: { afterMs: 4000, by: "erlan" } });
    await feed(log, i);
    const cmd = i.commands[0]!;
    expect(await log.appendCommand(cmd)).toBe(false);
    const result = {
      correlationId: cmd.correlationId,
      pillarId: cmd.pillarId,
      name: cmd.name,
      ok: true,
      error: null,
      at: cmd.sentAt,
    };
    expect(
      await log.recordCommandResult({ ...result, pillarId: SITES.med1.id }), // another pillar's answer does not count
    ).toBe(false);
    expect(await log.recordCommandResult(result)).toBe(true);
    const entry = (await log.timeline(i.incidentId)).find((t) => t.source === "command");
    expect(entry).toMatchObject({ what: "incident.ack", by: "erlan", detail: { operator: "erlan", result: true } });
  });

  describe("a simulated day shift", () => {
    const shift = simulatedShift("2026-11-25");
    beforeAll(async () => {
      for (const i of shift.incidents) await feed(log, i);
    });

    it("gives the shift report's figures worked out by hand", async () => {
      const r = await log.shiftReport(shift.from, shift.to);
      // In the shift (not test presses): 08:10 (2 presses), 09:00, 11:30, 12:00 (3), 14:00, 15:00, 16:00, 19:59.
      expect(r.alarms).toBe(8);
      expect(r.presses).toBe(11);
      // Acknowledged: 08:10, 09:00, 12:00, 14:00, 15:00, 16:00; picked up: 08:10, 09:00, 14:00, 16:00.
      expect(r.acknowledged).toBe(6);
      expect(r.answered).toBe(4);
      expect(r.acknowledgedOnly).toBe(2); // 12:00 and 15:00: nobody spoke to the caller
      expect(r.unanswered).toBe(2); // the same two, closed without a pickup
      expect(r.open).toBe(2); // 11:30 and 19:59
      expect(r.tests).toBe(2); // 10:00 and 17:00 on alm-med-002
      expect(r.perPillar).toEqual([
        { pillarId: "alm-med-001", district: "Medeu", alarms: 3, unanswered: 0, shortCalls: 1 },
        { pillarId: "alm-alm-001", district: "Almaly", alarms: 2, unanswered: 1, shortCalls: 0 },
        { pillarId: "alm-bos-001", district: "Bostandyk", alarms: 2, unanswered: 1, shortCalls: 1 },
        { pillarId: "alm-med-002", district: "Medeu", alarms: 1, unanswered: 0, shortCalls: 0 },
      ]);
      expect(r.perDistrict).toEqual([
        { district: "Medeu", alarms: 4, unanswered: 0 },
        { district: "Almaly", alarms: 2, unanswered: 1 },
        { district: "Bostandyk", alarms: 2, unanswered: 1 },
      ]);
      // Picked up 8, 15, 30 and 62 s after the first press (an acknowledgement is not an answer).
      expect(r.timeToAnswer).toEqual({ answered: 4, medianMs: 22_500, worstMs: 62_000 });
      // Acknowledged after 10, 20, 31, 45, 60 and 90 s.
      expect(r.timeToAcknowledge).toEqual({ acknowledged: 6, medianMs: 38_000, worstMs: 90_000 });
      expect(r.shortCalls.count).toBe(2);
      expect(r.shortCalls.calls.map((c) => [c.pillarId, c.talkMs, c.officer])).toEqual([
        ["alm-med-001", 3000, "bolat"],
        ["alm-bos-001", 4999, "bolat"],
      ]);
    });

    it("gives the same report after a restart and a full re-send of the shift", async () => {
      const before = await log.shiftReport(shift.from, shift.to);
      await reopen();
      for (const i of shift.incidents) await feed(log, i);
      expect(await log.shiftReport(shift.from, shift.to)).toEqual(before);
    });

    it("filters the history by pillar, district, dates, officer, outcome, text and closed", async () => {
      const day = { from: shift.from, to: shift.to };
      const ids = async (f: Parameters<IncidentLog["listIncidents"]>[0]) =>
        (await log.listIncidents({ ...day, ...f })).map((i) => `${i.pillarId}@${i.openedAt!.slice(11, 19)}`);
      expect(await ids({ pillarId: "alm-med-001" })).toEqual([
        "alm-med-001@11:30:00",
        "alm-med-001@09:00:00",
        "alm-med-001@08:10:00",
      ]);
      expect(await ids({ district: "Almaly" })).toEqual(["alm-alm-001@19:59:00", "alm-alm-001@12:00:00"]);
      expect(await ids({ from: "2026-11-25T09:00:00.000Z", to: "2026-11-25T12:00:00.000Z" })).toEqual([
        "alm-med-001@11:30:00",
        "alm-med-002@10:00:00",
        "alm-med-001@09:00:00",
      ]);
      expect(await ids({ officer: "bolat" })).toEqual([
        "alm-bos-001@15:00:00",
        "alm-bos-001@14:00:00",
        "alm-med-001@09:00:00",
      ]);
      expect(await ids({ outcome: "short-call" })).toEqual(["alm-bos-001@14:00:00", "alm-med-001@09:00:00"]);
      expect(await ids({ outcome: "unanswered" })).toEqual(["alm-bos-001@15:00:00", "alm-alm-001@12:00:00"]);
      expect(await ids({ outcome: "open" })).toEqual(["alm-alm-001@19:59:00", "alm-med-001@11:30:00"]);
      expect(await ids({ outcome: "test" })).toEqual(["alm-med-002@17:00:00", "alm-med-002@10:00:00"]);
      // Case-insensitive in Cyrillic too, and % is a plain character.
      expect(await ids({ text: "АБАЯ" })).toEqual(["alm-alm-001@19:59:00", "alm-alm-001@12:00:00"]);
      expect(await ids({ text: "шымбулак" })).toEqual([
        "alm-med-002@17:00:00",
        "alm-med-002@16:00:00",
        "alm-med-002@10:00:00",
      ]);
      expect(await ids({ text: "100%" })).toEqual([]);
      expect(await ids({ closed: false })).toEqual(["alm-alm-001@19:59:00", "alm-med-001@11:30:00"]);
      expect(await ids({ closed: true, district: "Medeu", officer: "aigerim" })).toEqual([
        "alm-med-002@16:00:00",
        "alm-med-001@08:10:00",
      ]);
    });
  });
});

describe("database addresses", () => {
  it("opens SQLite for a sqlite: path, creating its folder (0700) and file (0600) owner-only", async () => {
    const dir = await mkdtemp(join(tmpdir(), "center-addr-"));
    const db: SqlDb = await openSqlDb(`sqlite:${join(dir, "x", "c.db")}`);
    expect(db.dialect).toBe("sqlite");
    await SqlIncidentLog.open(db); // writes: the WAL and shared-memory files exist now
    const mode = async (p: string) => (await stat(p)).mode & 0o777;
    expect(await mode(join(dir, "x"))).toBe(0o700);
    expect(await mode(join(dir, "x", "c.db"))).toBe(0o600);
    expect(await mode(join(dir, "x", "c.db-wal"))).toBe(0o600);
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });
});
