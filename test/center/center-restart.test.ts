import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCenter } from "../support/center.js";
import { addOfficer, ConsoleProcess } from "../support/console-process.js";
import { waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { SimPillar } from "../support/sim-pillar.js";
import { TestPostgresDatabase } from "../support/postgres.js";

interface Summary {
  incidentId: string;
  pillarId: string;
  presses: number;
  acknowledgedBy: string | null;
  closedAt: string | null;
}

const engines = [
  { name: "SQLite", pg: false },
  { name: "PostgreSQL", pg: true },
];

describe.each(engines)("the shift's history survives a console server restart ($name)", ({ pg }) => {
  const broker = new TestMosquitto();
  const pillars = ["ala-almaly-0003", "ala-bostandyk-0011", "ala-auezov-0020"].map(
    (id, i) =>
      new SimPillar({
        pillar: { id },
        location: { lat: 43.2 + i / 100, lon: 76.9, address: `Street ${i + 1}`, district: id.split("-")[1] },
      }),
  );
  const postgres = new TestPostgresDatabase();
  let observer: TestCenter; // the pillars' other center: sends ack/close itself, and re-sends
  let consoleServer: ConsoleProcess;
  let dir = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "center-restart-"));
    const db = pg ? (await postgres.create()).url : join(dir, "center.db");
    await addOfficer(db, "aigerim", "supervisor", "aigerim-pass-1");
    await broker.start();
    const config = join(dir, "console.json");
    await writeFile(config, JSON.stringify({ mqttClientId: `console-restart-${pg ? "pg" : "sqlite"}` }));
    consoleServer = new ConsoleProcess(["--broker", broker.url, "--port", "0", "--db", db, "--config", config]);
    observer = await new TestCenter(broker.url).start();
    for (const p of pillars) await p.start(broker.url);
  }, 90_000);

  afterAll(async () => {
    for (const p of pillars) await p.dispose();
    await observer?.stop();
    await consoleServer?.kill();
    await broker.dispose();
    if (pg) await postgres.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const incidentOf = (pillarId: string) =>
    observer.events("button.press").find((e) => e.pillarId === pillarId)?.incidentId as string | undefined;
  const command = (pillarId: string, name: string, args: object) =>
    observer.send(`pillar/v1/${pillarId}/cmd/${name}`, { correlationId: `${name}-${Math.random()}`, ...args });
  /** Events of a type the pillars sent, re-sent copies counted once. */
  const distinct = (type: string) => new Set(observer.events(type).map((e) => e.eventId)).size;
  /** Every event the pillars sent, published again exactly as it was: what a pillar's outbox re-send looks like. */
  const resendAll = async () => {
    const once = new Map(observer.events().map((e) => [e.eventId, e]));
    for (const e of once.values()) await observer.send(`pillar/v1/${e.pillarId}/event`, JSON.stringify(e));
  };

  it("holds every incident and event of the shift once, after a crash, a queue of missed events and re-sends", async () => {
    await consoleServer.start();
    const [a, b, c] = pillars as [SimPillar, SimPillar, SimPillar];
    await a.click();
    await b.click();
    await observer.until(() => !!incidentOf(a.config.pillar.id) && !!incidentOf(b.config.pillar.id), "two alarms");
    await command(a.config.pillar.id, "incident.ack", {
      incidentId: incidentOf(a.config.pillar.id),
      operator: "bolat",
    });
    let cookie = await consoleServer.login("aigerim", "aigerim-pass-1");
    await waitFor(async () => {
      const { incidents } = await consoleServer.api("/api/history?closed=any", cookie);
      return (incidents as Summary[]).some((i) => i.acknowledgedBy === "bolat") && incidents.length === 2;
    }, "two incidents in the history, one acknowledged");

    // The console server dies (no clean stop). Meanwhile the shift goes on.
    await consoleServer.kill("SIGKILL");
    const before = observer.events().length;
    await command(a.config.pillar.id, "incident.close", { incidentId: incidentOf(a.config.pillar.id) });
    await c.click();
    await b.click(); // a second press joins b's open incident
    await observer.until(
      () => observer.events("incident.closed").length === 1 && !!incidentOf(c.config.pillar.id),
      "the close and c's alarm",
    );
    await observer.until(() => observer.events("button.press").length === 4, "b's second press");
    expect(observer.events().length).toBeGreaterThan(before); // the console missed these live
    await resendAll(); // and the pillars re-send everything (at least once)

    // Back: what it missed comes from its persistent session's queue (nothing is sent live now).
    await consoleServer.start();
    cookie = await consoleServer.login("aigerim", "aigerim-pass-1");
    const ids = [a, b, c].map((p) => incidentOf(p.config.pillar.id)!);
    const history = async () =>
      new Map(
        ((await consoleServer.api("/api/history?closed=any", cookie)).incidents as Summary[]).map((i) => [
          i.incidentId,
          i,
        ]),
      );
    await waitFor(
      async () => {
        const byId = await history();
        return byId.get(ids[0]!)?.closedAt && byId.get(ids[1]!)?.presses === 2 && byId.has(ids[2]!);
      },
      "the missed events in the history after the restart",
      30_000,
    );

    // Re-sends reach the running console too; then c is pressed again: once that press is in the
    // history, the re-sends before it were handled (the console takes messages in order, one by one).
    await resendAll();
    await c.click();
    await observer.until(() => distinct("button.press") === 5, "c's second press");
    const incidents = await waitFor(
      async () => {
        const byId = await history();
        return byId.get(ids[2]!)?.presses === 2 ? [...byId.values()] : null;
      },
      "c's second press in the history",
      30_000,
    );
    expect(incidents).toHaveLength(3);
    expect(incidents.map((i) => [i.pillarId, i.presses]).sort()).toEqual(
      [a, b, c].map((p, i) => [p.config.pillar.id, i === 0 ? 1 : 2]).sort(),
    );

    // Each incident's timeline has each event once: as many as distinct events the pillars sent.
    for (const id of ids) {
      const { timeline } = await consoleServer.api(`/api/history/${id}`, cookie);
      const sent = new Set(
        observer
          .events()
          .filter((e) => e.incidentId === id)
          .map((e) => e.eventId),
      );
      const stored = (timeline as { source: string }[]).filter((t) => t.source === "event");
      expect(stored.length).toBe(sent.size);
    }
    // The closed incident shows in the default (closed only) history with its acknowledgement.
    const closed = (await consoleServer.api("/api/history", cookie)).incidents as Summary[];
    expect(closed).toEqual([expect.objectContaining({ incidentId: ids[0], acknowledgedBy: "bolat" })]);
  });
});
