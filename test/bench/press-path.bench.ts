import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt, { type IClientOptions } from "mqtt";
import { pino } from "pino";
import { createBus } from "../../src/bus/events.js";
import { Journal } from "../../src/outbox/journal.js";
import { Outbox } from "../../src/outbox/outbox.js";
import { TestCenter } from "../support/center.js";
import { sleep, waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { PillarProcess } from "../support/pillar-process.js";
import { SimPillar, testConfigDoc } from "../support/sim-pillar.js";
import { cpuSeconds, percentile, round, rssMb } from "./proc-stats.js";

/**
 * Debounced edge → the center's subscriber, through a real Mosquitto, N sequential presses.
 * `o` adds pillar config (e.g. `broker.tls`) and the center's connect options (its certificate).
 */
export async function pressToCenter(
  broker: TestMosquitto,
  presses: number,
  o: { pillar?: Record<string, unknown>; center?: IClientOptions; prefix?: string } = {},
): Promise<Record<string, number>> {
  const center = await new TestCenter(broker.url, "bench-center", o.center).start("pillar/v1/+/event");
  const pillar = await new SimPillar({ button: { debounceMs: 2, stuckAfterS: 60 }, ...o.pillar }).start(broker.url);
  await waitFor(() => pillar.app.core.uplink.isConnected(), "pillar connected");
  const edges: number[] = [];
  pillar.app.core.bus.on("button.pressed", () => edges.push(performance.now()));
  const lat: number[] = [];
  for (let i = 0; i < presses; i++) {
    const n = center.events("button.press").length;
    pillar.io.button.press();
    await center.until(() => center.events("button.press").length > n, "press");
    lat.push(center.received.at(-1)!.at - edges.at(-1)!);
    pillar.io.button.release();
    await sleep(4);
  }
  await pillar.dispose();
  await center.stop();
  lat.sort((a, b) => a - b);
  const p = o.prefix ?? "";
  return {
    [`${p}press_to_center_p50_ms`]: round(percentile(lat, 50), 3),
    [`${p}press_to_center_p99_ms`]: round(percentile(lat, 99), 3),
    [`${p}press_to_center_n`]: lat.length,
  };
}

/** Events made durable (appended + fsync'd) per second, one after another, and in bursts. */
async function outboxRate(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), "bench-outbox-"));
  const log = pino({ level: "silent" });
  const outbox = new Outbox({
    journal: new Journal({ dir, compactBytes: 1 << 20, topicPrefix: "pillar/v1/bench/", log }),
    publisher: { isConnected: () => false, publish: () => Promise.reject(new Error("offline")) },
    bus: createBus(),
    log,
    maxBytes: 256 << 20,
  });
  await outbox.start();
  const body = (seq: number) => ({ seq, type: "button.press", pad: "x".repeat(300) });
  const n = 1000;
  let t = performance.now();
  for (let i = 0; i < n; i++) await outbox.submit("pillar/v1/bench/event", "alarm", body).durable;
  const sequential = n / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < n / 50; i++)
    await Promise.all(Array.from({ length: 50 }, () => outbox.submit("pillar/v1/bench/event", "alarm", body).durable));
  const burst = n / ((performance.now() - t) / 1000);
  await outbox.stop();
  await rm(dir, { recursive: true, force: true });
  return { outbox_events_per_s: Math.round(sequential), outbox_burst50_events_per_s: Math.round(burst) };
}

export const DIST_ENTRY = fileURLToPath(new URL("../../dist/pillar.mjs", import.meta.url));
/** The Node.js flags of the systemd service (scripts/alarm-pillar.service). */
export const SERVICE_NODE_FLAGS = ["--max-semi-space-size=1", "--lite-mode", "--expose-gc"];
/** The malloc settings of the systemd service (its `Environment=` lines, which say why). */
export const SERVICE_ENV: Record<string, string> = { MALLOC_ARENA_MAX: "2", MALLOC_MMAP_THRESHOLD_: "65536" };

/** `pillar run` as its own process: cold start to the retained online status, then idle cost. */
async function processFigures(broker: TestMosquitto): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), "bench-proc-"));
  const starts: number[] = [];
  let idle: Record<string, number> = {};
  for (let run = 0; run < 4; run++) {
    const id = `bench-${run}`;
    const config = await PillarProcess.writeConfig(
      dir,
      testConfigDoc({
        pillar: { id },
        dataDir: join(dir, `data-${run}`),
        broker: { url: broker.url },
        heartbeat: { intervalS: 30 },
      }),
    );
    const watcher = await mqtt.connectAsync(broker.url, { clientId: `bench-watch-${run}` });
    let onlineAt = 0;
    watcher.on("message", (_t, p) => {
      const s = JSON.parse(p.toString()) as { state: string };
      if (s.state === "online" && !onlineAt) onlineAt = performance.now();
    });
    await watcher.subscribeAsync(`pillar/v1/${id}/status`, { qos: 1 });
    const t0 = performance.now();
    // the production form: the bundle `npm run build` makes (what the Pi's service runs)
    const proc = new PillarProcess(
      config,
      [],
      DIST_ENTRY,
      run === 3 ? [] : SERVICE_NODE_FLAGS,
      run === 3 ? {} : SERVICE_ENV,
    );
    await proc.start();
    await waitFor(() => onlineAt, "online status");
    starts.push(onlineAt - t0);
    if (run >= 2) {
      // run 2: as the service runs it (SERVICE_NODE_FLAGS); run 3: plain `node`, for comparison
      await sleep(3000);
      const pid = proc.pid!;
      const c0 = await cpuSeconds(pid);
      const w0 = performance.now();
      await sleep(10_000);
      const cpu = ((await cpuSeconds(pid)) - c0) / ((performance.now() - w0) / 1000);
      if (run === 2)
        idle = {
          idle_rss_mb: round(await rssMb(pid), 1),
          idle_rss_anon_mb: round(await rssMb(pid, "RssAnon"), 1),
          idle_cpu_pct: round(cpu * 100, 2),
        };
      else idle.idle_rss_mb_default_node_flags = round(await rssMb(pid), 1);
    }
    await proc.kill("SIGTERM");
    await watcher.endAsync();
  }
  await rm(dir, { recursive: true, force: true });
  const serviceStarts = starts.slice(0, 3).sort((a, b) => a - b);
  return { cold_start_ms: Math.round(serviceStarts[1]!), ...idle };
}

export async function runPressPathBench(presses = 1000): Promise<Record<string, number>> {
  const broker = await new TestMosquitto().start();
  try {
    return { ...(await pressToCenter(broker, presses)), ...(await outboxRate()), ...(await processFigures(broker)) };
  } finally {
    await broker.dispose();
  }
}
