import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCenter } from "../support/center.js";
import { waitFor } from "../support/wait.js";
import { TestNatsCluster } from "../support/nats-cluster.js";
import { PillarProcess } from "../support/pillar-process.js";
import { testConfigDoc } from "../support/sim-pillar.js";

const PILLAR = "ala-med-0001";
const PRESSES = 24;

describe("a pillar and the center on a 3-node NATS cluster (JetStream, MQTT, replicas 3)", () => {
  let cluster: TestNatsCluster;
  let center: TestCenter;
  let pillar: PillarProcess;
  let dir: string;

  beforeAll(async () => {
    cluster = await new TestNatsCluster().start(3);
    dir = await mkdtemp(join(tmpdir(), "pillar-nats-"));
  }, 120_000);
  afterAll(async () => {
    await pillar?.kill("SIGKILL");
    await center?.stop();
    await cluster?.dispose(); // every node, by pid
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("loses no press when the pillar's node is SIGKILLed mid-stream and restarted; status and will work", async () => {
    const [a, b, c] = cluster.mqttUrls as [string, string, string];
    // the center's durable QoS 1 subscription exists (on node B) before the pillar publishes
    center = await new TestCenter(b, "center-nats").start("pillar/v1/#");
    const configPath = await PillarProcess.writeConfig(
      dir,
      testConfigDoc({
        pillar: { id: PILLAR },
        dataDir: join(dir, "data"),
        broker: { url: a, failoverUrls: [b, c], reconnectMs: 200, connectTimeoutMs: 3000 },
      }),
    );
    pillar = await new PillarProcess(configPath).start(60_000);
    const status = () => center.received.filter((r) => r.topic === `pillar/v1/${PILLAR}/status`).map((r) => r.payload);
    await center.until(() => status().some((s) => s.state === "online"), "the pillar online", 60_000);
    expect(await cluster.nodeOfClient(`pillar-${PILLAR}`)).toBe(0);

    const distinct = () => new Set(center.events("button.press").map((e) => e.eventId)).size;
    for (let i = 1; i <= PRESSES; i++) {
      await pillar.click(80);
      if (i === 8) {
        // mid-stream: presses made, some not yet at the center
        await cluster.kill(0);
        expect(cluster.nodes[0]!.proc!.signalCode).toBe("SIGKILL");
      }
      if (i === 16) {
        await waitFor(
          async () => (await pillar.http("GET", "/state")).components.uplink === "connected",
          "the pillar on another node",
          60_000,
          100,
        );
        expect([1, 2]).toContain(await cluster.nodeOfClient(`pillar-${PILLAR}`));
        await cluster.startNode(0); // the dead node comes back with its store
      }
    }
    // the presses the pillar took (a click squeezed under the debounce time by a loaded machine is none)
    const taken = () =>
      Math.max(
        0,
        ...pillar.output
          .split("\n")
          .filter((l) => l.includes('"module":"incident"') && l.includes('"press":'))
          .map((l) => (JSON.parse(l) as { press: number }).press),
      );
    expect(taken()).toBeGreaterThanOrEqual(PRESSES / 2);
    await center
      .until(() => distinct() >= taken(), "every press the pillar took", 120_000)
      .catch((err: Error) => {
        const seqs = center.events("button.press").map((e) => e.seq);
        const tail = pillar.output
          .split("\n")
          .filter((l) => !l.includes('"level":20'))
          .slice(-40)
          .join("\n");
        throw new Error(`${err.message}\nseqs at the center: ${seqs.join(",")}\npillar log:\n${tail}`);
      });
    await waitFor(async () => (await pillar.http("GET", "/state")).outbox.depth === 0, "outbox drained", 60_000, 100);

    // exactly once after de-duplication on eventId, in seq order
    const seen = new Set<string>();
    const presses = center.events("button.press").filter((e) => {
      if (seen.has(e.eventId as string)) return false;
      seen.add(e.eventId as string);
      return true;
    });
    const made = taken();
    expect(presses).toHaveLength(made);
    const seqs = presses.map((e) => e.seq as number);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(made);
    expect(presses.map((e) => (e.data as { press: number }).press)).toEqual(
      Array.from({ length: made }, (_, i) => i + 1),
    );

    // the retained status: a new subscriber on the restarted node gets "online"
    await cluster.waitReady();
    const late = await new TestCenter(a, "late-subscriber").start(`pillar/v1/${PILLAR}/status`);
    try {
      await late.until(() => late.received.length > 0, "the retained status", 60_000);
      expect(late.received[0]).toMatchObject({ retain: true, payload: { state: "online", pillarId: PILLAR } });
    } finally {
      await late.stop();
    }

    // the last will: the pillar dies without a word, the cluster says "offline" for it
    await pillar.kill("SIGKILL");
    await center.until(
      () => status().some((s) => s.state === "offline" && s.reason === "connection lost"),
      "the last will",
      60_000,
    );
    const late2 = await new TestCenter(c, "late-subscriber-2").start(`pillar/v1/${PILLAR}/status`);
    try {
      await late2.until(() => late2.received.length > 0, "the retained will", 60_000);
      expect(late2.received[0]).toMatchObject({
        retain: true,
        payload: { state: "offline", reason: "connection lost" },
      });
    } finally {
      await late2.stop();
    }
  }, 400_000);
});
