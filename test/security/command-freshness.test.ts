import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { TestCenter } from "../support/center.js";
import { waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { SimPillar } from "../support/sim-pillar.js";
import { TcpProxy } from "../support/tcp-proxy.js";

const results = (center: TestCenter, cid: string) =>
  center.received.filter((r) => r.topic.endsWith("/result") && r.payload.correlationId === cid).map((r) => r.payload);

describe("fresh commands over a persistent session (real Mosquitto)", () => {
  const broker = new TestMosquitto();
  let proxy: TcpProxy;
  let center: TestCenter;
  let pillar: SimPillar;

  beforeAll(async () => {
    await broker.start();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await center?.stop();
    await pillar?.dispose();
    await proxy?.stop();
  });
  afterAll(async () => {
    await broker.dispose();
  });

  it("an incident.ack sent while the pillar is cut off is applied after it reconnects; replayed 2 min later it is stale", async () => {
    center = await new TestCenter(broker.url).start();
    proxy = await new TcpProxy(broker.port).start();
    // the pillar reaches the broker through a relay the test can cut; the center stays connected
    pillar = await new SimPillar({ pillar: { id: "test-001", mode: "production" } }).start(proxy.url);
    await waitFor(() => pillar.app.core.uplink.isConnected(), "pillar connected");
    await pillar.click();
    await center.until(() => center.events("button.press").length === 1, "the press");
    const incidentId = center.events("button.press")[0]!.incidentId as string;

    await proxy.cut();
    await waitFor(() => !pillar.app.core.uplink.isConnected(), "pillar cut off");
    const ack = { correlationId: "ack-while-away", incidentId, operator: "anna", issuedAt: new Date().toISOString() };
    await center.send("pillar/v1/test-001/cmd/incident.ack", ack);
    expect(pillar.app.core.incidents.snapshot()).toMatchObject({ state: "alarm" });

    await proxy.start();
    await center.until(
      () => center.events("incident.acknowledged").length === 1,
      "the ack, applied after the reconnect",
    );
    expect(center.events("incident.acknowledged")[0]).toMatchObject({ incidentId, data: { operator: "anna" } });
    expect(pillar.app.core.incidents.snapshot()).toMatchObject({ state: "acknowledged" });
    await center.until(() => results(center, "ack-while-away").length === 1, "its result");
    expect(results(center, "ack-while-away")[0]).toMatchObject({ ok: true, command: "incident.ack" });

    // The same command, captured and replayed two minutes later (the pillar's clock moves on).
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true, now: Date.now() + 120_000 });
    await center.send("pillar/v1/test-001/cmd/incident.ack", ack);
    await center.until(() => results(center, "ack-while-away").length === 2, "the replay's result");
    expect(results(center, "ack-while-away")[1]).toMatchObject({
      ok: false,
      error: { code: "stale", message: expect.stringMatching(/^stale: issued 1[12]\d s ago \(limit 60 s\)$/) },
    });
    vi.useRealTimers();

    // one from the future (beyond the clock tolerance), one without issuedAt (production), a long id
    const future = new Date(Date.now() + 60_000).toISOString();
    await center.send("pillar/v1/test-001/cmd/ping", { correlationId: "from-future", issuedAt: future });
    await center.client!.publishAsync("pillar/v1/test-001/cmd/ping", JSON.stringify({ correlationId: "no-time" }), {
      qos: 1,
    });
    await center.send("pillar/v1/test-001/cmd/ping", { correlationId: "x".repeat(65) });
    await center.send("pillar/v1/test-001/cmd/ping", { correlationId: "fresh-ping" });
    await center.until(() => results(center, "fresh-ping").length === 1, "the fresh ping's result");
    await center.until(() => results(center, "no-time").length === 1, "the no-time result");
    expect(results(center, "fresh-ping")[0]).toMatchObject({ ok: true });
    expect(results(center, "from-future")[0]).toMatchObject({
      ok: false,
      error: { code: "stale", message: expect.stringMatching(/in the future \(clock tolerance 5 s\)/) },
    });
    expect(results(center, "no-time")[0]).toMatchObject({
      ok: false,
      error: { code: "invalid_payload", message: "issuedAt is required (production mode)" },
    });
    const longId = center.received.filter(
      (r) => r.topic.endsWith("/cmd/ping/result") && r.payload.correlationId === null,
    );
    expect(longId).toHaveLength(1);
    expect(longId[0]!.payload).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    const resultTexts = center.received
      .filter((r) => r.topic.endsWith("/result"))
      .map((r) => JSON.stringify(r.payload));
    expect(resultTexts.join("\n")).not.toContain("x".repeat(65));
  });
});
