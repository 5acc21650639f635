import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { FleetSimulator, type SimPress } from "../../src/fleet-sim/fleet-simulator.js";
import { simSites } from "../../src/fleet-sim/sim-sites.js";
import { TestCenter } from "../support/center.js";
import { sleep, waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { TestNatsCluster } from "../support/nats-cluster.js";
import { SimPillar } from "../support/sim-pillar.js";
import { percentile, round } from "./proc-stats.js";

const SITES = fileURLToPath(new URL("../../config/examples/fleet/sites.csv", import.meta.url));

/**
 * 1,000 simulated pillars (the real pillar software, one process) online with heartbeats on a
 * Mosquitto, presses at 10/s across the fleet: debounced edge → the center's subscriber (same
 * process, one clock). Also the simulator's memory per pillar.
 */
async function fleetFigures(count: number, seconds: number): Promise<Record<string, number>> {
  const broker = await new TestMosquitto().start();
  const center = await new TestCenter(broker.url, "bench-fleet-center").start("pillar/v1/#");
  const dir = await mkdtemp(join(tmpdir(), "bench-fleet-"));
  const pending = new Map<string, SimPress[]>();
  const lat: number[] = [];
  const seen = new Set<string>();
  center.client!.on("message", (topic, payload) => {
    if (!topic.endsWith("/event")) return;
    const e = JSON.parse(payload.toString()) as { eventId: string; pillarId: string; type: string };
    if (e.type !== "button.press" || seen.has(e.eventId)) return;
    seen.add(e.eventId);
    const press = pending.get(e.pillarId)?.shift();
    if (press) lat.push(performance.now() - press.tookAt);
  });
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const sim = new FleetSimulator({
    sites: simSites(await readFile(SITES, "utf8"), SITES, count, false),
    brokerUrl: broker.url,
    dataDir: dir,
    pressesPerMin: 0,
    faults: false,
    heartbeatS: 30,
    version: "bench",
    log: pino({ level: "silent" }),
    onPress: (p) => {
      const list = pending.get(p.pillarId) ?? [];
      list.push(p);
      pending.set(p.pillarId, list);
    },
  });
  try {
    await sim.start();
    const online = () =>
      new Set(
        center.received
          .filter((r) => r.topic.endsWith("/status") && r.payload.state === "online")
          .map((r) => r.payload.pillarId),
      ).size;
    await waitFor(() => online() >= count, `${count} pillars online`, 300_000, 200);
    await sleep(5000); // first heartbeats out of the way
    const rssAfter = process.memoryUsage().rss;
    // presses at 10/s, each on a random pillar; the pillar's bus says when it took the press
    const until = performance.now() + seconds * 1000;
    let n = 0;
    const t0 = performance.now();
    while (performance.now() < until) {
      sim.pressRandom();
      n++;
      const next = t0 + n * 100;
      await sleep(Math.max(0, next - performance.now()));
    }
    await sleep(500);
    await waitFor(() => [...pending.values()].every((l) => l.length === 0), "every press at the center", 60_000);
    lat.sort((a, b) => a - b);
    return {
      fleet_1000_press_to_center_p50_ms: round(percentile(lat, 50), 2),
      fleet_1000_press_to_center_p99_ms: round(percentile(lat, 99), 2),
      fleet_1000_press_to_center_n: lat.length,
      fleet_sim_rss_mb_per_pillar: round((rssAfter - rssBefore) / 1048576 / count, 3),
    };
  } finally {
    await sim.stop(5000);
    await center.stop();
    await broker.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

/** One pillar on node A of a 3-node NATS cluster, the center on node B: edge → center, sequential presses. */
async function natsFigures(presses: number): Promise<Record<string, number>> {
  const cluster = await new TestNatsCluster().start(3);
  const [a, b, c] = cluster.mqttUrls as [string, string, string];
  const center = await new TestCenter(b, "bench-nats-center").start("pillar/v1/+/event");
  const pillar = new SimPillar({
    pillar: { id: "ala-med-0001" },
    button: { debounceMs: 2, stuckAfterS: 60 },
    broker: { failoverUrls: [b, c] },
  });
  try {
    await pillar.start(a);
    await waitFor(() => pillar.app.core.uplink.isConnected(), "pillar connected", 60_000);
    const edges: number[] = [];
    pillar.app.core.bus.on("button.pressed", () => edges.push(performance.now()));
    const lat: number[] = [];
    for (let i = 0; i < presses; i++) {
      const n = center.events("button.press").length;
      pillar.io.button.press();
      await center.until(() => center.events("button.press").length > n, "press", 30_000);
      lat.push(center.received.at(-1)!.at - edges.at(-1)!);
      pillar.io.button.release();
      await sleep(4);
    }
    lat.sort((x, y) => x - y);
    return {
      nats_cluster_press_to_center_p50_ms: round(percentile(lat, 50), 2),
      nats_cluster_press_to_center_p99_ms: round(percentile(lat, 99), 2),
      nats_cluster_press_to_center_n: lat.length,
    };
  } finally {
    await pillar.dispose();
    await center.stop();
    await cluster.dispose();
  }
}

export async function runScaleBench(): Promise<Record<string, number>> {
  const count = Number(process.env.BENCH_FLEET ?? 1000);
  return {
    ...(await natsFigures(Number(process.env.BENCH_NATS_PRESSES ?? 300))),
    ...(await fleetFigures(count, Number(process.env.BENCH_FLEET_SECONDS ?? 30))),
  };
}
