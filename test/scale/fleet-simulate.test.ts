import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCenter } from "../support/center.js";
import { FleetSimProcess } from "../support/fleet-sim-process.js";
import { waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";

const COUNT = 300;

/** Each pillar's press events, de-duplicated on eventId, in the order the center got them. */
function pressesByPillar(center: TestCenter): Map<string, Record<string, unknown>[]> {
  const seen = new Set<string>();
  const by = new Map<string, Record<string, unknown>[]>();
  for (const e of center.events("button.press")) {
    if (seen.has(e.eventId as string)) continue;
    seen.add(e.eventId as string);
    const list = by.get(e.pillarId as string) ?? [];
    list.push(e);
    by.set(e.pillarId as string, list);
  }
  return by;
}

describe("pillar fleet simulate: 300 pillars on Mosquitto for 20 s", () => {
  let broker: TestMosquitto;
  let center: TestCenter;
  let sim: FleetSimProcess;

  beforeAll(async () => {
    broker = await new TestMosquitto().start();
    // the center's persistent session exists before any pillar publishes
    center = await new TestCenter(broker.url, `center-fleet-${process.pid}`).start("pillar/v1/#");
  });
  afterAll(async () => {
    await sim?.kill();
    await center?.stop();
    await broker?.dispose();
  });

  it("the center sees every pillar online, every press once (by eventId) in seq order, commands answered", async () => {
    sim = new FleetSimProcess([
      "--count",
      String(COUNT),
      "--broker",
      broker.url,
      "--presses-per-min",
      "900",
      "--heartbeat",
      "15",
      "--faults",
      "--for",
      "20",
    ]).start();
    const onlineIds = () =>
      new Set(
        center.received
          .filter((r) => r.topic.endsWith("/status") && r.payload.state === "online")
          .map((r) => r.payload.pillarId as string),
      );
    await waitFor(() => onlineIds().size === COUNT, `${COUNT} pillars online`, 180_000, 200);

    // the officer acknowledges an alarm and pings a pillar: the simulated pillars answer
    const first = await waitFor(() => center.events("button.press")[0], "a first press", 60_000, 100);
    const ack = { correlationId: "ack-1", incidentId: first.incidentId, operator: "officer 7" };
    await center.send(`pillar/v1/${first.pillarId}/cmd/incident.ack`, ack);
    await center.send(`pillar/v1/${first.pillarId}/cmd/ping`, { correlationId: "ping-1" });
    const result = (id: string) =>
      center.received.find((r) => r.topic.endsWith("/result") && r.payload.correlationId === id)?.payload;
    expect(await waitFor(() => result("ack-1"), "the ack's result", 60_000, 100)).toMatchObject({ ok: true });
    expect(await waitFor(() => result("ping-1"), "the ping's result", 60_000, 100)).toMatchObject({
      ok: true,
      result: { pillarId: first.pillarId },
    });

    expect(await Promise.race([sim.exited, new Promise((r) => setTimeout(() => r("running"), 240_000))])).toBe(0);
    const stopped = sim.line("fleet simulator stopped") as { presses: number; pressesByPillar: Record<string, number> };
    expect(stopped, sim.output.slice(-2000)).toBeDefined();
    expect(stopped.presses).toBeGreaterThan(150); // 15 a second for 20 s, less the ones on restarting pillars
    await waitFor(
      () => [...pressesByPillar(center).values()].reduce((n, l) => n + l.length, 0) >= stopped.presses,
      "every press at the center",
      60_000,
      200,
    ).catch(() => undefined); // the comparison below says which are missing
    const got = pressesByPillar(center);
    const counts = Object.fromEntries([...got].map(([id, l]) => [id, l.length]));
    expect(counts).toEqual(stopped.pressesByPillar);
    for (const [id, list] of got) {
      const seqs = list.map((e) => e.seq as number);
      expect(seqs, id).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(onlineIds().size).toBe(COUNT);
    // faults made some pillars drop off: the broker published their last will
    const summary = sim.line("fleet simulator stopping") as { linkCuts: number };
    if (summary.linkCuts > 0)
      expect(center.received.some((r) => r.topic.endsWith("/status") && r.payload.reason === "connection lost")).toBe(
        true,
      );
  }, 420_000);
});
