import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PillarIncidentStateSchema } from "../../src/incident/incident-state-schema.js";
import { TestCenter } from "../support/center.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { SimPillar } from "../support/sim-pillar.js";
import { waitFor } from "../support/wait.js";

const validate = new Ajv2020({ allErrors: true, strict: false }).compile(PillarIncidentStateSchema);
const TOPIC = "pillar/v1/test-001/incident";

/** A center that connects now: what the broker has retained on the incident topic. */
async function retained(url: string): Promise<Record<string, unknown>> {
  const c = await new TestCenter(url).start(TOPIC);
  try {
    await c.until(() => c.received.some((r) => r.retain), "the retained incident state");
    return c.received.find((r) => r.retain)!.payload;
  } finally {
    await c.stop();
  }
}

describe("the retained incident state (pillar/v1/{id}/incident)", () => {
  const broker = new TestMosquitto();
  let pillar: SimPillar;
  let center: TestCenter;

  beforeAll(async () => {
    await broker.start();
    center = await new TestCenter(broker.url).start();
    pillar = await new SimPillar().start(broker.url);
    await waitFor(() => pillar.app.core.uplink.isConnected(), "pillar connected");
  });
  afterAll(async () => {
    await center?.stop();
    await pillar?.dispose();
    await broker.dispose();
  });

  it("tells a center that connects later what is open, counting from the first press, until it closes", async () => {
    expect(await retained(broker.url)).toMatchObject({ v: 1, pillarId: "test-001", state: "idle", incidentId: null });

    await pillar.click();
    await center.until(() => center.events("button.press").length === 1, "the first press");
    const first = center.events("button.press")[0]!;
    const incidentId = first.incidentId as string;
    await waitFor(async () => (await retained(broker.url)).state === "alarm", "the alarm retained");
    const alarm = await retained(broker.url);
    expect(validate(alarm), JSON.stringify(validate.errors)).toBe(true);
    expect(alarm).toMatchObject({ state: "alarm", incidentId, openedAt: first.occurredAt, presses: 1 });

    // A later press: the incident still counts from the first one, in the state and in the event.
    await pillar.click();
    await center.until(() => center.events("button.press").length === 2, "the second press");
    expect(center.events("button.press")[1]!.data).toMatchObject({ press: 2, openedAt: first.occurredAt });
    await waitFor(async () => (await retained(broker.url)).presses === 2, "two presses retained");
    expect(await retained(broker.url)).toMatchObject({ state: "alarm", incidentId, openedAt: first.occurredAt });

    await center.send("pillar/v1/test-001/cmd/incident.ack", { correlationId: "st-1", incidentId, operator: "bolat" });
    await waitFor(async () => (await retained(broker.url)).state === "acknowledged", "acknowledged retained");
    const acked = await retained(broker.url);
    expect(validate(acked), JSON.stringify(validate.errors)).toBe(true);
    expect(acked).toMatchObject({ incidentId, openedAt: first.occurredAt, acknowledgedBy: "bolat" });
    expect(typeof acked.acknowledgedAt).toBe("string");

    await center.send("pillar/v1/test-001/cmd/incident.close", { correlationId: "st-2", incidentId });
    await waitFor(async () => (await retained(broker.url)).state === "idle", "idle retained");
    expect(await retained(broker.url)).toMatchObject({ incidentId: null, openedAt: null, presses: 0 });
  });
});
