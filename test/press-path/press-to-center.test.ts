import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PillarEventSchema } from "../../src/events/event-schema.js";
import { TestCenter } from "../support/center.js";
import { waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { SimPillar } from "../support/sim-pillar.js";

const validateEvent = new Ajv2020({ allErrors: true, strict: false }).compile(PillarEventSchema);

describe("press path through a real Mosquitto", () => {
  const broker = new TestMosquitto();
  let pillar: SimPillar;
  let center: TestCenter;

  beforeAll(async () => {
    await broker.start();
  });
  afterEach(async () => {
    await center?.stop();
    await pillar?.dispose();
  });
  afterAll(async () => {
    await broker.dispose();
  });

  it("delivers a press with every contract field, and announces the pillar online", async () => {
    center = await new TestCenter(broker.url).start();
    pillar = await new SimPillar().start(broker.url);
    await center.until(
      () => center.received.some((r) => r.topic === "pillar/v1/test-001/status" && r.payload.state === "online"),
      "online status",
    );
    const status = center.received.find((r) => r.topic.endsWith("/status"))!;
    expect(status.payload).toMatchObject({ state: "online", pillarId: "test-001", version: "0.0.0-test" });
    expect(typeof status.payload.uptimeS).toBe("number");

    const before = Date.now();
    await pillar.click();
    await center.until(() => center.events("button.press").length === 1, "the press");
    const ev = center.events("button.press")[0]!;
    expect(validateEvent(ev), JSON.stringify(validateEvent.errors)).toBe(true);
    expect(ev).toMatchObject({
      pillarId: "test-001",
      type: "button.press",
      location: { lat: 43.238, lon: 76.9452, address: "Republic Square 1", district: "Medeu" },
      data: { press: 1, incidentState: "alarm" },
    });
    expect(typeof ev.clockSynced).toBe("boolean");
    expect(ev.incidentId).toMatch(/^[0-9a-f-]{36}$/);
    const occurred = Date.parse(ev.occurredAt as string);
    expect(occurred).toBeGreaterThanOrEqual(before - 5);
    expect(occurred).toBeLessThanOrEqual(Date.now());
    // the LEDs show "alarm sent"
    expect(pillar.app.core.leds.pattern()).toBe("alarm");
    expect(pillar.io.outputs.strobe.read()).toBe(true);
    expect(pillar.io.outputs.ready.read()).toBe(false);
  });

  it("joins repeated presses to one incident, shows the center's acknowledgement, and closes", async () => {
    center = await new TestCenter(broker.url).start();
    pillar = await new SimPillar().start(broker.url);
    await waitFor(() => pillar.app.core.uplink.isConnected(), "pillar connected");
    for (let i = 0; i < 3; i++) await pillar.click();
    await center.until(() => center.events("button.press").length === 3, "three presses");
    const presses = center.events("button.press");
    expect(new Set(presses.map((p) => p.incidentId)).size).toBe(1);
    expect(presses.map((p) => (p.data as { press: number }).press)).toEqual([1, 2, 3]);
    const incidentId = presses[0]!.incidentId as string;

    await center.send("pillar/v1/test-001/cmd/incident.ack", {
      correlationId: "c-1",
      incidentId,
      operator: "Sgt. Karimova",
    });
    await center.until(() => center.received.some((r) => r.topic.endsWith("/cmd/incident.ack/result")), "ack result");
    const result = center.received.find((r) => r.topic.endsWith("/cmd/incident.ack/result"))!.payload;
    expect(result).toMatchObject({ correlationId: "c-1", ok: true, result: { state: "acknowledged", incidentId } });
    await center.until(() => center.events("incident.acknowledged").length === 1, "acknowledged event");
    expect(pillar.app.core.leds.pattern()).toBe("acknowledged");
    // "help is coming": the alarm lamp steady; the answered lamp is voice contact only (EN 81-28)
    expect(pillar.io.outputs.alarm.read()).toBe(true);
    expect(pillar.io.outputs.answered.read()).toBe(false);

    await center.send("pillar/v1/test-001/cmd/incident.close", { correlationId: "c-2", incidentId });
    await center.until(() => center.events("incident.closed").length === 1, "closed event");
    expect(pillar.app.core.incidents.snapshot().state).toBe("idle");
    expect(pillar.app.core.leds.pattern()).toBe("idle");
    expect(pillar.io.outputs.ready.read()).toBe(true);
    // a new press opens a new incident
    await pillar.click();
    await center.until(() => center.events("button.press").length === 4, "a new press");
    expect(center.events("button.press")[3]!.incidentId).not.toBe(incidentId);
  });

  it("answers bad command payloads with clear errors and changes nothing", async () => {
    center = await new TestCenter(broker.url).start();
    pillar = await new SimPillar().start(broker.url);
    await waitFor(() => pillar.app.core.uplink.isConnected(), "pillar connected");
    await pillar.click();
    await center.until(() => center.events("button.press").length === 1, "press");
    const results = () =>
      center.received.filter((r) => r.topic.includes("/cmd/") && r.topic.endsWith("/result")).map((r) => r.payload);

    await center.send("pillar/v1/test-001/cmd/incident.ack", "{not json");
    await center.send("pillar/v1/test-001/cmd/incident.ack", { correlationId: "c-3", incidentId: 42, extra: true });
    await center.send("pillar/v1/test-001/cmd/incident.ack", { incidentId: "x" });
    await center.send("pillar/v1/test-001/cmd/incident.ack", { correlationId: "c-5", incidentId: "no-such-incident" });
    await center.send("pillar/v1/test-001/cmd/self.destruct", { correlationId: "c-6" });
    await center.until(() => results().length === 5, "five error results");
    const r = results();
    expect(r.every((x) => x.ok === false)).toBe(true);
    expect(r.find((x) => (x.error as { code: string }).code === "invalid_json")?.correlationId).toBeNull();
    const invalid = r.find((x) => x.correlationId === "c-3")!.error as { code: string; problems: { path: string }[] };
    expect(invalid.code).toBe("invalid_payload");
    expect(invalid.problems.map((p) => p.path).sort()).toEqual(["/extra", "/incidentId"]);
    const missingCid = r.find((x) => (x.error as { message: string }).message.includes("/correlationId"))!;
    expect((missingCid.error as { code: string }).code).toBe("invalid_payload");
    expect((r.find((x) => x.correlationId === "c-5")!.error as { code: string }).code).toBe("not_found");
    expect((r.find((x) => x.correlationId === "c-6")!.error as { code: string }).code).toBe("unknown_command");
    expect(pillar.app.core.incidents.snapshot().state).toBe("alarm");
    expect(pillar.app.core.leds.pattern()).toBe("alarm");
  });

  it("delivers 20 presses made while the broker is down, in seq order, once it is back", async () => {
    center = await new TestCenter(broker.url, "center-outage").start();
    pillar = await new SimPillar().start(broker.url);
    await waitFor(() => pillar.app.core.uplink.isConnected(), "pillar connected");
    await broker.stop();
    await waitFor(() => !pillar.app.core.uplink.isConnected(), "pillar sees the broker gone");
    for (let i = 0; i < 20; i++) await pillar.click(25);
    await waitFor(() => pillar.app.core.outbox.depth >= 20, "20 presses in the outbox");
    expect(center.events("button.press")).toHaveLength(0);

    await broker.start();
    await center.until(
      () => new Set(center.events("button.press").map((e) => e.eventId)).size === 20,
      "20 presses after the outage",
    );
    const firstSeen = new Map<string, number>();
    for (const e of center.events("button.press"))
      if (!firstSeen.has(e.eventId as string)) firstSeen.set(e.eventId as string, e.seq as number);
    const seqs = [...firstSeen.values()];
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(20);
    await waitFor(() => pillar.app.core.outbox.depth === 0, "outbox drained after PUBACKs");
  });
});

describe("an open incident across a restart", () => {
  it("is restored: the LEDs still show it and the center can still acknowledge it", async () => {
    const broker = await new TestMosquitto().start();
    const center = await new TestCenter(broker.url).start();
    const first = await new SimPillar().start(broker.url);
    try {
      await waitFor(() => first.app.core.uplink.isConnected(), "connected");
      await first.click();
      await center.until(() => center.events("button.press").length === 1, "press");
      const incidentId = center.events("button.press")[0]!.incidentId as string;
      await first.stop();

      const second = await new SimPillar().start(broker.url, first.dataDir);
      expect(second.app.core.incidents.snapshot()).toMatchObject({ state: "alarm", incidentId, presses: 1 });
      expect(second.app.core.leds.pattern()).toBe("alarm");
      await waitFor(() => second.app.core.uplink.isConnected(), "reconnected");
      await second.click();
      await center.until(() => center.events("button.press").length === 2, "second press");
      expect(center.events("button.press")[1]).toMatchObject({ incidentId, data: { press: 2 } });
      await center.send("pillar/v1/test-001/cmd/incident.ack", { correlationId: "r-1", incidentId });
      await center.until(() => center.events("incident.acknowledged").length === 1, "ack after restart");
      expect(second.app.core.leds.pattern()).toBe("acknowledged");
      await second.stop();
    } finally {
      await center.stop();
      await first.dispose();
      await broker.dispose();
    }
  });
});
